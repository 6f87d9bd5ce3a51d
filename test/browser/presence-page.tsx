import { render } from "preact";
import { useState } from "preact/hooks";
import { createMeshClient } from "../../client/index.ts";
import { usePresence } from "../../client/preact.ts";

// The page the presence browser test loads: one topic's presence through usePresence, entered
// with the visitor's name; buttons change the data and leave (unmount the hook).
const params = new URLSearchParams(location.search);
const client = createMeshClient({ url: params.get("mesh") ?? "", token: params.get("token") ?? undefined });
const topic = params.get("topic") ?? "";
const name = params.get("name") ?? "";

function Room() {
  const [status, setStatus] = useState("here");
  const view = usePresence(client, topic, { data: { name, status } });
  return (
    <section>
      <p id="occupancy" data-synced={String(view.synced)}>
        {view.occupancy.members}/{view.occupancy.connections}
      </p>
      <ul id="members">
        {view.members.map((m) => (
          <li key={m.member} data-member={m.member}>
            {JSON.stringify(m.data)}
          </li>
        ))}
      </ul>
      <button id="away" type="button" onClick={() => setStatus("away")}>
        away
      </button>
    </section>
  );
}

function App() {
  const [inRoom, setInRoom] = useState(true);
  return (
    <main>
      {inRoom && <Room />}
      <button id="leave" type="button" onClick={() => setInRoom(false)}>
        leave
      </button>
    </main>
  );
}

render(<App />, document.body);
