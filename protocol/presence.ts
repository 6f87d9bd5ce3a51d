import * as v from "valibot";
import { limitParam } from "./query.ts";
import { TopicNameSchema } from "./topic-name.ts";

/**
 * Presence: who is on a topic. A member is a subscriber token's subject; each of its sockets that
 * entered is one connection, and the member leaves when its last connection does. Every shape of
 * presence on the wire is declared here once (frames on `/v1/ws`, the HTTP member list).
 */

/** Characters of a member's data as JSON: small, since it goes to every follower on each change. */
export const PRESENCE_MAX_DATA_CHARS = 1024;
/** Members per `presence` page (frames and `GET /v1/topics/:topic/presence`). */
export const PRESENCE_PAGE_DEFAULT = 100;
export const PRESENCE_PAGE_MAX = 1000;
/**
 * The bounds of leaving without a `presence.leave` (docs/architecture.md#presence): a closed
 * connection lingers this long so a reconnect with the same session is no leave + join; a hub's
 * connections are checked this often; a socket with no heartbeat for this long counts as gone.
 */
export const PRESENCE_LINGER_MS = 10_000;
export const PRESENCE_CHECK_MS = 10_000;
export const PRESENCE_STALE_MS = 55_000;

/** What a follower of a topic's presence gets: every member and change, or the counts only. */
export const PresenceModeSchema = v.picklist(["members", "count"]);
export type PresenceMode = v.InferOutput<typeof PresenceModeSchema>;

/** A member's data: any JSON, at most `PRESENCE_MAX_DATA_CHARS` characters serialized. */
export const PresenceDataSchema = v.pipe(
  v.unknown(),
  v.check(
    (data) => data === undefined || JSON.stringify(data).length <= PRESENCE_MAX_DATA_CHARS,
    `presence data is at most ${PRESENCE_MAX_DATA_CHARS} characters of JSON`,
  ),
);

/** A client's presence session: the same id on a reconnect keeps its connection (no leave + join). */
export const PresenceSessionSchema = v.pipe(
  v.string(),
  v.regex(/^[\w-]{1,64}$/, "session is 1 to 64 letters, digits, _ or -"),
);

/**
 * Client to server: enter the topic's presence as the token's subject, with optional `data`.
 * Entering again on the same socket replaces the data (as `presence.update` does).
 */
export const PresenceEnterFrameSchema = v.object({
  type: v.literal("presence.enter"),
  topic: TopicNameSchema,
  session: v.optional(PresenceSessionSchema),
  data: v.optional(PresenceDataSchema),
});

/** Client to server: replace the member's data; the socket must have entered. */
export const PresenceUpdateFrameSchema = v.object({
  type: v.literal("presence.update"),
  topic: TopicNameSchema,
  data: PresenceDataSchema,
});

/** Client to server: this connection leaves (the member leaves with its last connection). */
export const PresenceLeaveFrameSchema = v.object({
  type: v.literal("presence.leave"),
  topic: TopicNameSchema,
});

/**
 * Client to server: follow the topic's presence, with or without subscribing to its events: a
 * `presence` list (a page per frame) then every change (`members`), or `occupancy` frames only
 * (`count`). Following again replaces the mode and sends the list again.
 */
export const PresenceFollowFrameSchema = v.object({
  type: v.literal("presence.follow"),
  topic: TopicNameSchema,
  mode: v.optional(PresenceModeSchema, "members"),
});

/** Client to server: stop following the topic's presence. */
export const PresenceUnfollowFrameSchema = v.object({
  type: v.literal("presence.unfollow"),
  topic: TopicNameSchema,
});

export type PresenceEnterFrame = v.InferOutput<typeof PresenceEnterFrameSchema>;
export type PresenceFollowFrame = v.InferOutput<typeof PresenceFollowFrameSchema>;
export type PresenceUnfollowFrame = v.InferOutput<typeof PresenceUnfollowFrameSchema>;
/** Every presence frame a client sends. */
export type PresenceClientFrame =
  | PresenceEnterFrame
  | PresenceUpdateFrame
  | PresenceLeaveFrame
  | PresenceFollowFrame
  | PresenceUnfollowFrame;
export type PresenceUpdateFrame = v.InferOutput<typeof PresenceUpdateFrameSchema>;
export type PresenceLeaveFrame = v.InferOutput<typeof PresenceLeaveFrameSchema>;

/** How many are here: distinct members, and their connections. */
export const OccupancySchema = v.object({ members: v.number(), connections: v.number() });
export type Occupancy = v.InferOutput<typeof OccupancySchema>;

export const PresenceMemberSchema = v.object({ member: v.string(), data: v.unknown() });
export type PresenceMember = v.InferOutput<typeof PresenceMemberSchema>;

/**
 * Server to client, to a socket following presence with `members`: one page of the member list
 * (in member order). `page` 0 starts a new list; the list is whole at the page with `more: false`.
 * Changes that come meanwhile are sent as they happen and apply on top.
 */
export const PresenceFrameSchema = v.object({
  type: v.literal("presence"),
  topic: v.string(),
  page: v.number(),
  members: v.array(PresenceMemberSchema),
  more: v.boolean(),
});

/** Server to client: a member came, changed its data, or left (its last connection went). */
export const PresenceEventFrameSchema = v.object({
  type: v.picklist(["presence.join", "presence.update", "presence.leave"]),
  topic: v.string(),
  member: v.string(),
  data: v.optional(v.unknown()),
});

/** Server to client, to every follower of the topic's presence: the counts after a change. */
export const OccupancyFrameSchema = v.object({
  type: v.literal("occupancy"),
  topic: v.string(),
  members: v.number(),
  connections: v.number(),
});

/** Server to client: a presence frame was refused (`no_subject`, `forbidden`, `not_entered`). */
export const PresenceRefusedFrameSchema = v.object({
  type: v.literal("presence.refused"),
  topic: v.string(),
  code: v.string(),
  message: v.string(),
});

export type PresenceFrame = v.InferOutput<typeof PresenceFrameSchema>;
export type PresenceEventFrame = v.InferOutput<typeof PresenceEventFrameSchema>;
export type OccupancyFrame = v.InferOutput<typeof OccupancyFrameSchema>;
export type PresenceRefusedFrame = v.InferOutput<typeof PresenceRefusedFrameSchema>;
/** A presence change as the topic's presence object records and sends it. */
export type PresenceChange = Omit<PresenceEventFrame, "topic">;

/** Query of `GET /v1/topics/:topic/presence`: a page of members after `cursor` (a member id). */
export const PresenceQuerySchema = v.object({
  cursor: v.optional(v.pipe(v.string(), v.maxLength(200))),
  limit: v.optional(v.pipe(limitParam, v.maxValue(PRESENCE_PAGE_MAX, `limit is at most ${PRESENCE_PAGE_MAX}`))),
});

/** Answer of `GET /v1/topics/:topic/presence`: the counts and one page of members. */
export const PresencePageSchema = v.object({
  topic: v.string(),
  occupancy: OccupancySchema,
  members: v.array(PresenceMemberSchema),
  /** Pass as `cursor` for the next page; null on the last. */
  next: v.nullable(v.string()),
});
export type PresencePage = v.InferOutput<typeof PresencePageSchema>;

export function presenceEnterFrameText(frame: Omit<PresenceEnterFrame, "type">): string {
  return JSON.stringify({ type: "presence.enter", ...frame });
}

export function presenceUpdateFrameText(topic: string, data: unknown): string {
  return JSON.stringify({ type: "presence.update", topic, data });
}

export function presenceFollowFrameText(topic: string, mode: PresenceMode): string {
  return JSON.stringify({ type: "presence.follow", topic, mode });
}

export function presenceUnfollowFrameText(topic: string): string {
  return JSON.stringify({ type: "presence.unfollow", topic });
}

export function presenceLeaveFrameText(topic: string): string {
  return JSON.stringify({ type: "presence.leave", topic });
}
