import { useCallback, useEffect, useState } from "preact/hooks";
import type { JsonObject } from "../../../protocol/json.ts";
import { isValidTopicName, TOPIC_NAME_RULE } from "../../../protocol/topic-name.ts";
import { Empty } from "../components/states.tsx";
import { ConnectionBadge, useFollow } from "../follow.tsx";
import { clockTime } from "../format.ts";

/** Rows kept on screen; older ones scroll away. */
const TAIL_ROWS = 200;
/** How many past events a tail starts with, so it is not empty on a quiet topic. */
export const TAIL_BACKLOG = 20;

interface TailRow {
  seq: number;
  type: string;
  time: string;
  data: string;
}

/** A topic to follow and the seq to start after. */
export interface TailSelection {
  topic: string;
  after: number;
}

/** Follows any topic live over the public WebSocket API, from where the selection starts. */
export function LiveTail({
  selection,
  onTopic,
}: {
  selection: TailSelection | null;
  onTopic: (topic: string) => void;
}) {
  const topic = selection?.topic ?? "";
  const [draft, setDraft] = useState(topic);
  const [rows, setRows] = useState<TailRow[]>([]);
  const [invalid, setInvalid] = useState<string | null>(null);
  useEffect(() => {
    setDraft(topic);
    setRows([]);
  }, [topic]);

  const onEvent = useCallback((event: JsonObject) => {
    const row: TailRow = {
      seq: Number(event.seq),
      type: String(event.type),
      time: String(event.time ?? ""),
      data: event.data === undefined ? "" : JSON.stringify(event.data),
    };
    setRows((list) => (list.some((r) => r.seq === row.seq) ? list : [row, ...list].slice(0, TAIL_ROWS)));
  }, []);
  const state = useFollow(selection?.topic ?? null, { after: selection?.after ?? 0 }, onEvent);

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
    <section class="card" aria-labelledby="tail-title" data-testid="tail-card">
      <div class="card-head">
        <h2 id="tail-title">Live tail</h2>
        <span class="hint">{topic && <ConnectionBadge state={state} />}</span>
      </div>
      <p class="card-sub">Newest first. The WebSocket resumes from its last seq after any disconnect.</p>
      <div class="card-body">
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
              rows.map((row) => (
                <div class="tail-row" key={row.seq} data-testid="tail-row">
                  <span class="seq">#{row.seq}</span>
                  <span class="type">{row.type}</span>
                  <span class="time">{clockTime(row.time)}</span>
                  <span class="data" title={row.data}>
                    {row.data}
                  </span>
                </div>
              ))
            )}
          </div>
        )}
      </div>
    </section>
  );
}
