import { render } from "preact";
import { useCallback, useRef, useState } from "preact/hooks";
import { notificationTopic, type SignupResponse, USERS_TOPIC } from "../../protocol/demo.ts";
import type { JsonObject } from "../../protocol/json.ts";
import { type Toast, Toasts, useToasts } from "./components/toasts.tsx";
import { TopBar } from "./components/top-bar.tsx";
import { addEvent, type FlowEvent, toFlowEvent } from "./flow.ts";
import { ConnectionBadge, useFollow, useTopicHead } from "./follow.tsx";
import { FlowPanel } from "./signup/flow-panel.tsx";
import { FailureSwitchRow, Outbox } from "./signup/notification-card.tsx";
import { SignupForm } from "./signup/signup-form.tsx";

/** Events of the users topic kept while the page waits to learn which one is its own. */
const USERS_BUFFER = 50;

function SignupPage() {
  const [signup, setSignup] = useState<SignupResponse | null>(null);
  const [userEvents, setUserEvents] = useState<FlowEvent[]>([]);
  const [notifications, setNotifications] = useState<FlowEvent[]>([]);
  const [outboxVersion, setOutboxVersion] = useState(0);
  const { toasts, show, dismiss } = useToasts();
  /** Toasts only for what happens while this page watches, not for a replay of an old signup. */
  const createdHere = useRef(new Set<string>());

  // The users topic from where it stands now: this page's own UserRegistered arrives live.
  const usersHead = useTopicHead(USERS_TOPIC);
  const usersState = useFollow(
    usersHead === null ? null : USERS_TOPIC,
    { after: usersHead ?? 0, types: ["UserRegistered"] },
    useCallback((event: JsonObject) => {
      setUserEvents((list) => addEvent(list, toFlowEvent(USERS_TOPIC, event)).slice(-USERS_BUFFER));
    }, []),
  );

  // The user's own notification topic, from its start: nothing sent before the page followed it is missed.
  const userId = signup?.user.userId ?? null;
  const topic = userId ? notificationTopic(userId) : null;
  const notificationState = useFollow(
    topic,
    { after: 0 },
    useCallback(
      (event: JsonObject) => {
        if (!topic) return;
        const flowEvent = toFlowEvent(topic, event);
        setNotifications((list) => addEvent(list, flowEvent));
        const toast = toastFor(flowEvent, createdHere.current);
        if (toast) show(toast);
        if (flowEvent.type === "WelcomeEmailSent") setOutboxVersion((n) => n + 1);
      },
      [topic, show],
    ),
  );

  const onSignedUp = (response: SignupResponse) => {
    if (response.created) createdHere.current.add(response.user.userId);
    if (response.user.userId !== userId) setNotifications([]);
    setSignup(response);
  };

  const correlation = signup?.user.correlationId;
  const flow = correlation ? [...userEvents.filter((e) => e.correlationId === correlation), ...notifications] : [];

  return (
    <>
      <TopBar page="signup">
        <ConnectionBadge state={topic ? notificationState : usersState} />
      </TopBar>
      <main class="page">
        <section class="hero">
          <h1>Sign up, and watch the mesh deliver your welcome</h1>
          <p>
            The User Service only stores you and publishes <code>UserRegistered</code>. A Notification Service it has
            never heard of receives that event through a durable subscription and a queue, sends the welcome email and
            publishes <code>WelcomeEmailSent</code> to your own topic, which this page follows over a WebSocket.
          </p>
          <div class="pipeline">
            <span class="step">
              <b>User Service</b>
            </span>
            <span class="arrow">→</span>
            <span class="step">
              topic <b>users</b>
            </span>
            <span class="arrow">→</span>
            <span class="step">
              subscription <b>notification-service</b> · queue
            </span>
            <span class="arrow">→</span>
            <span class="step">
              <b>Notification Service</b>
            </span>
            <span class="arrow">→</span>
            <span class="step">
              topic <b>{topic ?? "notifications.<you>"}</b>
            </span>
            <span class="arrow">→</span>
            <span class="step">
              <b>this page</b>
            </span>
          </div>
        </section>
        <div class="layout">
          <section class="card area-form">
            <div class="card-head">
              <h2>Create your account</h2>
            </div>
            <div class="card-body">
              <SignupForm onSignedUp={onSignedUp} />
            </div>
          </section>
          <section class="card area-service">
            <div class="card-head">
              <h2>Notification Service</h2>
            </div>
            <div class="card-body">
              <FailureSwitchRow />
            </div>
            <div class="card-head">
              <h2>Outbox</h2>
              <span class="hint">no real mail is sent</span>
            </div>
            <div class="card-body">
              <Outbox userId={userId} version={outboxVersion} />
            </div>
          </section>
          <section class="card area-flow" aria-labelledby="flow-title">
            <div class="card-head">
              <h2 id="flow-title">Live flow</h2>
              <span class="hint">{topic ? `following users and ${topic}` : "following users"}</span>
            </div>
            <p class="card-sub">
              Each event as it arrives, with its topic position and the event that caused it (<code>causationid</code>).
            </p>
            <div class="card-body">
              <FlowPanel events={flow} waiting={signup !== null} />
            </div>
          </section>
        </div>
      </main>
      <Toasts toasts={toasts} onDismiss={dismiss} />
    </>
  );
}

/** The toast for an event of the user's topic, if it deserves one. */
function toastFor(event: FlowEvent, createdHere: Set<string>): Toast | null {
  const userId = String(event.data.userId ?? "");
  if (!createdHere.has(userId)) return null;
  if (event.type === "WelcomeEmailSent") {
    return {
      id: event.id,
      tone: "ok",
      title: "Welcome email sent",
      body: `“${String(event.data.subject)}” is in ${String(event.data.email)}'s inbox.`,
    };
  }
  return null;
}

const root = document.getElementById("app");
if (root) render(<SignupPage />, root);
