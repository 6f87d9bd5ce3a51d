import { isValidTopicName, TOPIC_NAME_RULE } from "event-mesh/client";
import { useTopic } from "event-mesh/preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { Card } from "../components/card.tsx";
import { ConnectionBadge } from "../components/connection-badge.tsx";
import { Empty } from "../components/states.tsx";
import { clockTime } from "../format.ts";
import { meshClient } from "../mesh-client.ts";
import { tailToken } from "./admin-key.ts";

/** Rows kept on screen; older ones scroll away. */
const TAIL_ROWS = 200;
/** How many past events a tail starts with, so it is not empty on a quiet topic. */
export const TAIL_BACKLOG = 20;

/** A topic to follow and the seq to start after. */
export interface TailSelection {
  topic: string;
  after: number;
}

/** Follows any topic live over the public WebSocket API, with tokens the admin key mints, from where the selection starts. */
export function LiveTail({
  selection,
  onTopic,
}: {
  selection: TailSelection | null;
  onTopic: (topic: string) => void;
}) {
  const topic = selection?.topic ?? "";
  const [draft, setDraft] = useState(topic);
  const [invalid, setInvalid] = useState<string | null>(null);
  useEffect(() => setDraft(topic), [topic]);
  const token = useCallback(() => tailToken(topic), [topic]);
  const tail = useTopic(meshClient, selection?.topic ?? null, {
    after: selection?.after,
    token,
    limit: TAIL_ROWS,
  });
  const rows = [...tail.events].reverse();

  function submit(e: Event) {
    e.preventDefault();
    const name = draft.trim();
    if (!isValidTopicName(name)) {
      setInvalid(`Not a topic name: ${TOPIC_NAME_RULE}.`);
      return;
    }
    setInvalid(null);
    onTopic(name);
  }

  return (
    <Card
      id="tail"
      title="Live tail"
      testId="tail-card"
      hint={topic && <ConnectionBadge state={tail.state} />}
      sub="Newest first. The WebSocket resumes from its last seq after any disconnect."
    >
      <form class="toolbar" onSubmit={submit}>
        <label class="sr-only" for="tail-topic">
          Topic
        </label>
        <input
          id="tail-topic"
          class="input mono"
          placeholder="topic, e.g. users"
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
        />
        <button type="submit" class="btn secondary">
          Follow
        </button>
      </form>
      {invalid && <div class="field-error">{invalid}</div>}
      {!topic ? (
        <div style={{ marginTop: "14px" }}>
          <Empty title="Pick a topic">Press “Tail” on a topic above, or type its name.</Empty>
        </div>
      ) : (
        <div class="tail" data-testid="tail">
          {rows.length === 0 ? (
            <div class="tail-row">
              <span />
              <span class="faint">Waiting for events on {topic}…</span>
            </div>
          ) : (
            rows.map((event) => {
              const data = event.data === undefined ? "" : JSON.stringify(event.data);
              return (
                <div class="tail-row" key={event.seq} data-testid="tail-row">
                  <span class="seq">#{event.seq}</span>
                  <span class="type">{event.type}</span>
                  <span class="time">{clockTime(event.time)}</span>
                  <span class="data" title={data}>
                    {data}
                  </span>
                </div>
              );
            })
          )}
        </div>
      )}
    </Card>
  );
}
