import type { Occupancy, TopicInfo } from "event-mesh/client";
import { Card } from "../components/card.tsx";
import { LoadedView } from "../components/loaded-view.tsx";
import { Empty } from "../components/states.tsx";
import { count } from "../format.ts";
import type { Loaded } from "../use-load.ts";

/** A topic as the console shows it: where its log stands and who is on it. */
export type TopicRow = TopicInfo & { here: Occupancy };

/** Every topic with where its log stands and its occupancy; "Tail" follows it live below. */
export function TopicsCard({ topics, onTail }: { topics: Loaded<TopicRow[]>; onTail: (topic: string) => void }) {
  return (
    <Card
      id="topics"
      title="Topics"
      testId="topics-card"
      hint={topics.data ? count(topics.data.length, "topic") : ""}
      sub="Each topic is one ordered log; head is its newest seq, oldest the first one still kept; here is who is on it now (members, and their connections)."
    >
      <LoadedView
        loaded={topics}
        what="topics"
        empty={<Empty title="No topics yet">A topic appears when the first event is published to it.</Empty>}
      >
        {(list) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Topic</th>
                  <th class="num">Head</th>
                  <th class="num">Oldest</th>
                  <th class="num">Events kept</th>
                  <th class="num">Dedup window</th>
                  <th class="num">Here</th>
                  <th>
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((t) => (
                  <tr key={t.topic} data-testid="topic-row" data-topic={t.topic}>
                    <td class="mono">{t.topic}</td>
                    <td class="num">{t.head}</td>
                    <td class="num">{t.head === 0 ? "—" : t.oldest}</td>
                    <td class="num">{t.eventCount}</td>
                    <td class="num">{Math.round(t.dedupWindowSeconds / 3600)} h</td>
                    <td class="num" data-testid="occupancy" title={count(t.here.connections, "connection")}>
                      {t.here.members}
                    </td>
                    <td>
                      <div class="row-actions">
                        <button type="button" class="btn small secondary" onClick={() => onTail(t.topic)}>
                          Tail
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
