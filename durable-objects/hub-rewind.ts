import type { Rewind } from "../protocol/rewind.ts";
import type { Session } from "./hub-sessions.ts";
import type { RewindStart } from "./topic-log.ts";

/** Asks a topic's log where a rewind starts (`TopicLog.rewind`): one call per rewinding subscribe. */
export type ResolveRewind = (topic: string, rewind: Rewind) => Promise<RewindStart>;

/**
 * The frames of each socket's topics still waiting for a rewind to be resolved. The hub takes other
 * frames while a topic's log is asked; a later subscribe or unsubscribe of the same topic waits for
 * the rewind's answer, so every frame of a topic is answered in the order it came (clients match
 * answers to their subscribes by order).
 */
const turns = new WeakMap<Session, Map<string, Promise<void>>>();

/** Runs `step` for `topic` now, or after the rewinds of the topic that came before it are answered. */
export function inTurn(session: Session, topic: string, step: () => Promise<void> | undefined): void {
  let queues = turns.get(session);
  const before = queues?.get(topic);
  const running = before ? before.then(step) : step();
  if (!running) return;
  if (!queues) {
    queues = new Map();
    turns.set(session, queues);
  }
  const done = running.catch(() => undefined);
  queues.set(topic, done);
  void done.then(() => {
    if (queues.get(topic) === done) queues.delete(topic);
  });
}
