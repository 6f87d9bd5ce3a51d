import type { SubscriptionView } from "event-mesh/client";
import { useState } from "preact/hooks";
import { Card } from "../components/card.tsx";
import { LoadedView } from "../components/loaded-view.tsx";
import { Empty, ErrorBox } from "../components/states.tsx";
import { count, relativeTime } from "../format.ts";
import { errorMessage } from "../http.ts";
import type { Loaded } from "../use-load.ts";
import { adminApi } from "./admin-key.ts";

function target(sub: SubscriptionView): string {
  return sub.target.type === "queue" ? `queue ${sub.target.queue}` : `webhook ${new URL(sub.target.url).host}`;
}

/**
 * Durable subscriptions of every topic: cursor, lag, gaps retention left, state, retries and the
 * last error, with pause and resume (resuming one paused at a gap accepts the gap).
 */
export function SubscriptionsCard({ subs, onChanged }: { subs: Loaded<SubscriptionView[]>; onChanged: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  async function act(sub: SubscriptionView, action: "pause" | "resume") {
    const key = `${sub.topic}/${sub.name}`;
    setBusy(key);
    setActionError(null);
    try {
      await adminApi(
        `/v1/topics/${encodeURIComponent(sub.topic)}/subscriptions/${encodeURIComponent(sub.name)}/${action}`,
        {
          method: "POST",
        },
      );
      onChanged();
    } catch (err) {
      setActionError(`Cannot ${action} ${sub.name}: ${errorMessage(err)}`);
    } finally {
      setBusy(null);
    }
  }

  return (
    <Card
      id="subs"
      title="Subscriptions"
      testId="subscriptions-card"
      hint={subs.data ? count(subs.data.length, "subscription") : ""}
      sub="A stored cursor per subscription; lag is how many events are not yet past it. Failed deliveries retry with backoff, then become dead letters."
    >
      {actionError && <ErrorBox message={actionError} />}
      <LoadedView
        loaded={subs}
        what="subscriptions"
        empty={
          <Empty title="No subscriptions yet">
            The demo creates <code>notification-service</code> on <code>users</code> at the first signup.
          </Empty>
        }
      >
        {(list) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Subscription</th>
                  <th>Target</th>
                  <th>State</th>
                  <th class="num">Cursor</th>
                  <th class="num">Lag</th>
                  <th class="num">Delivered</th>
                  <th>Next retry</th>
                  <th>Last error</th>
                  <th>
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((sub) => {
                  const key = `${sub.topic}/${sub.name}`;
                  return (
                    <tr key={key} data-testid="subscription-row" data-name={sub.name} data-state={sub.state}>
                      <td>
                        <div class="mono">{sub.name}</div>
                        <div class="faint">on {sub.topic}</div>
                      </td>
                      <td class="muted">{target(sub)}</td>
                      <td>
                        {sub.state === "active" ? (
                          sub.attempts > 0 ? (
                            <span class="badge warn">retrying · {sub.attempts}</span>
                          ) : (
                            <span class="badge ok">active</span>
                          )
                        ) : (
                          <span class="badge danger">paused{sub.pausedReason ? ` · ${sub.pausedReason}` : ""}</span>
                        )}
                      </td>
                      <td class="num">{sub.cursor}</td>
                      <td class="num">
                        {sub.lag}
                        {sub.gapCount > 0 && (
                          <div
                            class="badge warn"
                            data-testid="subscription-gap"
                            title={sub.gaps
                              .map((g) => `seqs ${g.from}-${g.to} removed by ${g.reason} before delivery`)
                              .join("\n")}
                          >
                            {count(sub.gapCount, "gap")}
                            {sub.gaps[0] ? ` · last ${sub.gaps[0].from}–${sub.gaps[0].to}` : ""}
                          </div>
                        )}
                      </td>
                      <td class="num">{sub.delivered}</td>
                      <td>{relativeTime(sub.nextAttemptAt)}</td>
                      <td>
                        {sub.lastError ? (
                          <div class="error-text" title={sub.lastErrorAt ?? undefined}>
                            {sub.lastError}
                          </div>
                        ) : (
                          <span class="faint">—</span>
                        )}
                      </td>
                      <td>
                        <div class="row-actions">
                          <button
                            type="button"
                            class="btn small secondary"
                            disabled={busy === key}
                            onClick={() => act(sub, sub.state === "active" ? "pause" : "resume")}
                          >
                            {sub.state === "active" ? "Pause" : "Resume"}
                          </button>
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </LoadedView>
    </Card>
  );
}
