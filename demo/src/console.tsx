import type { DeadLetterList, PresencePage, SubscriptionView, TopicInfo } from "event-mesh/client";
import { render } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { Card } from "./components/card.tsx";
import { TopBar } from "./components/top-bar.tsx";
import { adminApi, adminKey, setAdminKey } from "./console/admin-key.ts";
import { DeadLettersCard } from "./console/dead-letters-card.tsx";
import { LiveTail, TAIL_BACKLOG, type TailSelection } from "./console/live-tail.tsx";
import { SubscriptionsCard } from "./console/subscriptions-card.tsx";
import { TopicsCard } from "./console/topics-card.tsx";
import { useLoad } from "./use-load.ts";

/** How often the tables are read again while "auto-refresh" is on. */
const REFRESH_MS = 2_000;

const topicPath = (topic: string) => `/v1/topics/${encodeURIComponent(topic)}`;

const loadTopics = () => adminApi<{ topics: TopicInfo[] }>("/v1/topics").then((b) => b.topics);

/** Every topic with its occupancy: who is on it right now (presence), one small read per topic. */
const loadTopicsHere = () =>
  loadTopics().then((topics) =>
    Promise.all(
      topics.map((t) =>
        adminApi<PresencePage>(`${topicPath(t.topic)}/presence?limit=1`).then((p) => ({ ...t, here: p.occupancy })),
      ),
    ),
  );

/** Every subscription of every topic (the API lists them per topic). */
async function loadSubscriptions(): Promise<SubscriptionView[]> {
  const topics = await loadTopics();
  const lists = await Promise.all(
    topics.map((t) => adminApi<{ subscriptions: SubscriptionView[] }>(`${topicPath(t.topic)}/subscriptions`)),
  );
  return lists.flatMap((l) => l.subscriptions);
}

/** Asks for the admin key the console reads with; `npm start` prints a link that fills it in. */
function AdminKeyCard({ onSaved }: { onSaved: () => void }) {
  const [value, setValue] = useState("");
  return (
    <Card
      id="admin-key"
      title="Admin key needed"
      testId="admin-key"
      sub={
        <>
          The console reads the mesh with an admin-scoped key. <code>npm start</code> prints a link with it; or paste
          the operator key from <code>demo/.dev.vars</code> (MESH_KEYS). It stays in this browser only.
        </>
      }
    >
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!value.trim()) return;
          setAdminKey(value.trim());
          onSaved();
        }}
      >
        <input
          type="password"
          aria-label="admin key"
          placeholder="sk_…"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <button type="submit" class="btn small">
          Use key
        </button>
      </form>
    </Card>
  );
}

/** The operator console: only the public HTTP and WebSocket API of the mesh. */
function ConsolePage() {
  const [hasKey, setHasKey] = useState(() => adminKey() !== null);
  const [tick, setTick] = useState(0);
  const [auto, setAuto] = useState(true);
  const [tail, setTail] = useState<TailSelection | null>(null);
  const refresh = useCallback(() => setTick((n) => n + 1), []);

  const topics = useLoad(loadTopicsHere, tick);
  const subs = useLoad(loadSubscriptions, tick);
  const letters = useLoad(() => adminApi<DeadLetterList>("/v1/dead-letters"), tick);

  useEffect(() => {
    if (!auto) return;
    const timer = setInterval(refresh, REFRESH_MS);
    return () => clearInterval(timer);
  }, [auto, refresh]);

  async function follow(topic: string) {
    let head = topics.data?.find((t) => t.topic === topic)?.head;
    if (head === undefined)
      head = await adminApi<TopicInfo>(topicPath(topic)).then(
        (i) => i.head,
        () => 0,
      );
    setTail({ topic, after: Math.max(0, head - TAIL_BACKLOG) });
  }

  return (
    <>
      <TopBar page="console">
        <label class="badge" style={{ cursor: "pointer" }}>
          <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.currentTarget.checked)} />
          auto-refresh
        </label>
        <button type="button" class="btn small secondary" onClick={refresh}>
          Refresh
        </button>
      </TopBar>
      <main class="page">
        <section class="hero">
          <h1>Operator console</h1>
          <p>
            Where every topic, subscription and dead letter stands, read through the mesh's public HTTP API, and a live
            tail of any topic over its WebSocket API.
          </p>
        </section>
        {!hasKey && (
          <AdminKeyCard
            onSaved={() => {
              setHasKey(true);
              refresh();
            }}
          />
        )}
        <div class="console-grid">
          <TopicsCard topics={topics} onTail={follow} />
          <SubscriptionsCard subs={subs} onChanged={refresh} />
          <DeadLettersCard page={letters} onChanged={refresh} />
          <LiveTail selection={tail} onTopic={follow} />
        </div>
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<ConsolePage />, root);
