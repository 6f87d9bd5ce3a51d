import type { DeadLetter, DeadLetterList } from "event-mesh/client";
import { useState } from "preact/hooks";
import { Card } from "../components/card.tsx";
import { LoadedView } from "../components/loaded-view.tsx";
import { Empty, ErrorBox } from "../components/states.tsx";
import { relativeTime } from "../format.ts";
import { errorMessage } from "../http.ts";
import type { Loaded } from "../use-load.ts";
import { adminApi } from "./admin-key.ts";

/**
 * Events that ran out of attempts, from subscriptions and queue consumers alike; redrive sends one
 * again. It shows the listing's first page: `more` says there are others beyond it.
 */
export function DeadLettersCard({ page, onChanged }: { page: Loaded<DeadLetterList>; onChanged: () => void }) {
  const letters: Loaded<DeadLetter[]> = { ...page, data: page.data?.deadLetters ?? null };
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);

  async function redrive(letter: DeadLetter) {
    setBusy(letter.id);
    setNotice(null);
    try {
      await adminApi(`/v1/dead-letters/${encodeURIComponent(letter.id)}/redrive`, { method: "POST" });
      setNotice({
        ok: true,
        text: `Redriven: ${letter.event.type as string} (${letter.topic} #${letter.seq}) is on its way again.`,
      });
      onChanged();
    } catch (err) {
      setNotice({ ok: false, text: `Cannot redrive ${letter.id}: ${errorMessage(err)}` });
    } finally {
      setBusy(null);
    }
  }

  return (
    <Card
      id="dl"
      title="Dead letters"
      testId="dead-letters-card"
      hint={page.data ? `${page.data.deadLetters.length}${page.data.more ? "+" : ""} waiting` : ""}
      sub="Nothing is dropped: an event that exhausted its retries waits here with its last error."
    >
      {notice &&
        (notice.ok ? (
          <div class="notice ok" role="status" data-testid="redrive-notice">
            {notice.text}
          </div>
        ) : (
          <ErrorBox message={notice.text} />
        ))}
      <LoadedView
        loaded={letters}
        what="dead letters"
        empty={
          <Empty title="No dead letters">
            Every event so far was delivered. Turn on the failure switch to see one.
          </Empty>
        }
      >
        {(list) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Event</th>
                  <th>Where it failed</th>
                  <th class="num">Attempts</th>
                  <th>Last error</th>
                  <th>Failed</th>
                  <th>
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((letter) => (
                  <tr key={letter.id} data-testid="dead-letter-row" data-id={letter.id}>
                    <td>
                      <div>
                        <b>{String(letter.event.type)}</b>
                      </div>
                      <div class="faint mono">
                        {letter.topic} #{letter.seq}
                      </div>
                    </td>
                    <td class="muted">
                      {letter.kind === "queue" ? `consumer ${letter.consumer}` : `subscription ${letter.subscription}`}
                    </td>
                    <td class="num">{letter.attempts}</td>
                    <td>
                      <div class="error-text">{letter.lastError}</div>
                    </td>
                    <td>{relativeTime(letter.lastFailureAt)}</td>
                    <td>
                      <div class="row-actions">
                        <button
                          type="button"
                          class="btn small"
                          disabled={busy === letter.id}
                          onClick={() => redrive(letter)}
                        >
                          {busy === letter.id ? "Redriving…" : "Redrive"}
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </LoadedView>
    </Card>
  );
}
