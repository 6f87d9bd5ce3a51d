import type { Rewind } from "../protocol/rewind.ts";
import type { RewindStart } from "./topic-log.ts";

/** Asks a topic's log where a rewind starts (`TopicLog.rewind`): one call per rewinding subscribe. */
export type ResolveRewind = (topic: string, rewind: Rewind) => Promise<RewindStart>;
