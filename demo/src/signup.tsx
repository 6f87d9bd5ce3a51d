import { usePresence, useTopic } from "event-mesh/preact";
import { render } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { type MeAnswer, notificationTopic, type Registration, type SignupAnswer, USERS_TOPIC } from "../api-shapes.ts";
import { Card } from "./components/card.tsx";
import { ConnectionBadge } from "./components/connection-badge.tsx";
import { type Toast, Toasts, useToasts } from "./components/toasts.tsx";
import { TopBar } from "./components/top-bar.tsx";
import { errorMessage, requestJson } from "./http.ts";
import { meshClient } from "./mesh-client.ts";
import { type FlowItem, NOTIFICATION_TYPES, type NotificationEvent } from "./signup/flow.ts";
import { FlowPanel } from "./signup/flow-panel.tsx";
import { FailureSwitchRow, Outbox } from "./signup/notification-card.tsx";
import { SignupForm } from "./signup/signup-form.tsx";

/** A fresh subscriber token for one of this visitor's users, from the demo's backend (GET /demo/token). */
async function notificationToken(userId: string): Promise<string> {
  const { token } = await requestJson<{ token: string }>(`/demo/token?userId=${encodeURIComponent(userId)}`);
  return token;
}

/**
 * The signup page. It follows only the notification topic of this visitor's own user, with a
 * token for that one topic; the flow starts with the stored `UserRegistered` event the User
 * Service answered with (the page never reads the users topic: it holds everyone's addresses).
 */
function SignupPage() {
  // Who this browser is, from its cookie: null until the backend answered (its first answer sets the cookie).
  const [me, setMe] = useState<MeAnswer | null>(null);
  const [meError, setMeError] = useState<string | null>(null);
  const [current, setCurrent] = useState<Registration | null>(null);
  const [outboxVersion, setOutboxVersion] = useState(0);
  const { toasts, show, dismiss } = useToasts();
  /** Toasts only for signups made on this page, not for a replay of an earlier one after a reload. */
  const createdHere = useRef(new Set<string>());

  useEffect(() => {
    requestJson<MeAnswer>("/demo/me").then(
      (answer) => {
        setMe(answer);
        // A reloaded page picks up where this browser's newest signup stands.
        setCurrent((shown) => shown ?? answer.current);
      },
      (err) => setMeError(errorMessage(err)),
    );
  }, []);

  const userId = current?.user.userId ?? null;
  const topic = userId ? notificationTopic(userId) : null;
  // Asked again on every reconnect and when the token expires; stable per user, so no resubscribe.
  const token = useMemo(() => (userId ? () => notificationToken(userId) : undefined), [userId]);
  const onEvent = useCallback(
    (event: NotificationEvent) => {
      if (event.type !== "WelcomeEmailSent") return;
      setOutboxVersion((n) => n + 1);
      const toast = welcomeToast(event, createdHere.current);
      if (toast) show(toast);
    },
    [show],
  );
  const notifications = useTopic(meshClient, topic, { types: NOTIFICATION_TYPES, token, onEvent });
  // The page is present on the user's topic (as the token's subject, the user): the console counts it.
  usePresence(meshClient, topic, { data: { page: "signup" }, token, mode: "count" });

  const onSignedUp = (answer: SignupAnswer) => {
    if (answer.created) createdHere.current.add(answer.user.userId);
    setCurrent({ user: answer.user, registered: answer.registered });
  };

  const flow: FlowItem[] =
    current && topic
      ? [
          { topic: USERS_TOPIC, event: current.registered },
          // The user's own events only: for one render after a new signup, the hook still holds the previous topic's.
          ...notifications.events.filter((event) => event.data.userId === userId).map((event) => ({ topic, event })),
        ]
      : [];

  return (
    <>
      <TopBar page="signup">
        <ConnectionBadge state={notifications.state} />
      </TopBar>
      <main class="page">
        <section class="hero">
          <h1>Sign up, and watch the mesh deliver your welcome</h1>
          <p>
            The User Service only stores you and publishes <code>UserRegistered</code>. A Notification Service it has
            never heard of receives that event through a durable subscription and a queue, sends the welcome email and
            publishes <code>WelcomeEmailSent</code> to your own topic, which this page follows over a WebSocket. This
            browser sees only its own signups.
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
          <Card id="signup" title="Create your account" area="form">
            <SignupForm onSignedUp={onSignedUp} />
          </Card>
          <section class="card area-service">
            <div class="card-head">
              <h2>Notification Service</h2>
            </div>
            <div class="card-body">
              {/* After /demo/me, so a first visit gets one visitor cookie, not one per concurrent request. */}
              {me ? <FailureSwitchRow /> : meError && <span class="field-error">{meError}</span>}
            </div>
            <div class="card-head">
              <h2>Outbox</h2>
              <span class="hint">no real mail is sent</span>
            </div>
            <div class="card-body">
              <Outbox userId={userId} version={outboxVersion} />
            </div>
          </section>
          <Card
            id="flow"
            title="Live flow"
            area="flow"
            hint={topic ? `following ${topic}` : "following nothing yet"}
            sub={
              <>
                Each event of your signup as it arrives, with its topic position and the event that caused it (
                <code>causationid</code>).
              </>
            }
          >
            <FlowPanel items={flow} waiting={current !== null} />
          </Card>
        </div>
      </main>
      <Toasts toasts={toasts} onDismiss={dismiss} />
    </>
  );
}

/** The toast for a welcome email, if the signup was made on this page. */
function welcomeToast(event: NotificationEvent & { type: "WelcomeEmailSent" }, createdHere: Set<string>): Toast | null {
  if (!createdHere.has(event.data.userId)) return null;
  return {
    id: event.id,
    tone: "ok",
    title: "Welcome email sent",
    body: `“${event.data.subject}” is in ${event.data.email}'s inbox.`,
  };
}

const root = document.getElementById("app");
if (root) render(<SignupPage />, root);
