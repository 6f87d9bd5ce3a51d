import { render } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { createMeshClient, webStorage } from "../../client/index.ts";
import { useTopic } from "../../client/preact.ts";

// The page the browser test loads: one topic rendered with useTopic, its position kept in
// sessionStorage so a reload continues where the page was.
const params = new URLSearchParams(location.search);
const client = createMeshClient({
  url: params.get("mesh") ?? "",
  token: params.get("token") ?? undefined,
  backoff: { firstDelayMs: 100, maxDelayMs: 1_000 },
  heartbeat: { intervalMs: 2_000, timeoutMs: 3_000 },
});
const storage = webStorage(sessionStorage);

function App({ topic }: { topic: string }) {
  const view = useTopic(client, topic, { storage });
  const states = useRef<string[]>([]);
  useEffect(() => {
    states.current.push(view.state);
  }, [view.state]);
  return (
    <main>
      <p id="state" data-state={view.state} data-history={states.current.join(",")}>
        {view.state}
      </p>
      <ol id="events">
        {view.events.map((event) => (
          <li key={event.seq} data-seq={event.seq}>
            {event.seq}: {String((event.data as { text?: string } | null)?.text ?? "")}
          </li>
        ))}
      </ol>
    </main>
  );
}

render(<App topic={params.get("topic") ?? ""} />, document.body);
