import type { ComponentChildren } from "preact";
import { Empty } from "../components/states.tsx";
import { clockTime, shortId } from "../format.ts";
import { causationOf, causeOf, depthOf, type FlowItem } from "./flow.ts";

/** One line of prose per event type: what happened, in the reader's terms. */
function describe({ event }: FlowItem): ComponentChildren {
  switch (event.type) {
    case "UserRegistered":
      return (
        <>
          The User Service stored <b>{event.data.name}</b> ({event.data.email}) and announced it. It does not know who
          listens.
        </>
      );
    case "NotificationAttemptFailed":
      return (
        <>
          Attempt {event.data.attempt} failed: <span class="field-error">{event.data.error}</span>. The queue tries
          again with backoff until its attempts run out.
        </>
      );
    case "WelcomeEmailSent":
      return (
        <>
          The Notification Service sent “{event.data.subject}” to {event.data.email}.
        </>
      );
  }
}

const BADGE: Record<FlowItem["event"]["type"], string> = {
  UserRegistered: "accent",
  WelcomeEmailSent: "ok",
  NotificationAttemptFailed: "warn",
};

/**
 * The live flow: every event of this signup in arrival order, with its topic, seq and time, and
 * the event that caused it (its `causationid`), indented under it.
 */
export function FlowPanel({ items, waiting }: { items: FlowItem[]; waiting: boolean }) {
  const emailSent = items.some((i) => i.event.type === "WelcomeEmailSent");
  if (items.length === 0) {
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
      {items.map((item) => {
        const { event } = item;
        const cause = causeOf(items, item);
        const causationId = causationOf(item);
        const correlationId = typeof event.correlationid === "string" ? event.correlationid : "—";
        return (
          <li
            key={`${item.topic}#${event.seq}`}
            class={`flow-item kind-${event.type}`}
            data-depth={Math.min(depthOf(items, item), 2)}
            data-type={event.type}
            data-testid="flow-item"
          >
            <div class="flow-line">
              <span class={`badge ${BADGE[event.type]}`}>{event.type}</span>
              <span class="flow-meta">
                <span>
                  topic <span class="mono">{item.topic}</span>
                </span>
                <span>
                  seq <span class="mono">{event.seq}</span>
                </span>
                <span class="mono">{clockTime(event.time)}</span>
              </span>
            </div>
            <div class="flow-detail">{describe(item)}</div>
            <div class="flow-cause" data-testid="flow-cause">
              {cause ? (
                <>
                  ↳ caused by <span class="mono">{cause.event.type}</span> at {cause.topic} #{cause.event.seq} ·
                  causationid{" "}
                  <span class="mono" title={cause.event.id}>
                    {shortId(cause.event.id, 28)}
                  </span>
                </>
              ) : causationId ? (
                <>
                  ↳ caused by <span class="mono">{shortId(causationId, 28)}</span>
                </>
              ) : (
                <>
                  start of the flow · correlation <span class="mono">{shortId(correlationId, 18)}</span>
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
