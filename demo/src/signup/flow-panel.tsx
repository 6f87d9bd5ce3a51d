import type { ComponentChildren } from "preact";
import { Empty } from "../components/states.tsx";
import { causeOf, depthOf, type FlowEvent } from "../flow.ts";
import { clockTime, shortId } from "../format.ts";

/** One line of prose per known event type: what happened, in the reader's terms. */
function describe(event: FlowEvent): ComponentChildren {
  const d = event.data;
  switch (event.type) {
    case "UserRegistered":
      return (
        <>
          The User Service stored <b>{String(d.name)}</b> ({String(d.email)}) and announced it. It does not know who
          listens.
        </>
      );
    case "NotificationAttemptFailed":
      return (
        <>
          Attempt {String(d.attempt)} failed: <span class="field-error">{String(d.error)}</span>. The queue tries again
          with backoff until its attempts run out.
        </>
      );
    case "WelcomeEmailSent":
      return (
        <>
          The Notification Service sent “{String(d.subject)}” to {String(d.email)}.
        </>
      );
    default:
      return null;
  }
}

const BADGE: Record<string, string> = {
  UserRegistered: "accent",
  WelcomeEmailSent: "ok",
  NotificationAttemptFailed: "warn",
};

/**
 * The live flow: every event of this signup in arrival order, with its topic, seq and time, and
 * the event that caused it (its `causationid`), indented under it.
 */
export function FlowPanel({ events, waiting }: { events: FlowEvent[]; waiting: boolean }) {
  const emailSent = events.some((e) => e.type === "WelcomeEmailSent");
  if (events.length === 0) {
    return (
      <Empty title={waiting ? "Waiting for the first event…" : "No events yet"}>
        {waiting
          ? "The User Service answered; its event is on the way."
          : "Sign up and the events of your signup appear here as the mesh delivers them."}
      </Empty>
    );
  }
  return (
    <ol class="flow" data-testid="flow">
      {events.map((event) => {
        const cause = causeOf(events, event);
        return (
          <li
            key={`${event.topic}#${event.seq}`}
            class={`flow-item kind-${event.type}`}
            data-depth={Math.min(depthOf(events, event), 2)}
            data-type={event.type}
            data-testid="flow-item"
          >
            <div class="flow-line">
              <span class={`badge ${BADGE[event.type] ?? ""}`}>{event.type}</span>
              <span class="flow-meta">
                <span>
                  topic <span class="mono">{event.topic}</span>
                </span>
                <span>
                  seq <span class="mono">{event.seq}</span>
                </span>
                <span class="mono">{clockTime(event.time)}</span>
              </span>
            </div>
            <div class="flow-detail">{describe(event)}</div>
            <div class="flow-cause" data-testid="flow-cause">
              {cause ? (
                <>
                  ↳ caused by <span class="mono">{cause.type}</span> at {cause.topic} #{cause.seq} · causationid{" "}
                  <span class="mono" title={cause.id}>
                    {shortId(cause.id, 28)}
                  </span>
                </>
              ) : event.causationId ? (
                <>
                  ↳ caused by <span class="mono">{shortId(event.causationId, 28)}</span>
                </>
              ) : (
                <>
                  start of the flow · correlation <span class="mono">{shortId(event.correlationId ?? "—", 18)}</span>
                </>
              )}
            </div>
          </li>
        );
      })}
      {waiting && !emailSent && (
        <li class="flow-pending" data-testid="flow-pending">
          <span class="dot pulse" /> Waiting for the Notification Service: the event travels through the subscription
          and the queue…
        </li>
      )}
    </ol>
  );
}
