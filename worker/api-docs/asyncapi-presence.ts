import * as v from "valibot";
import {
  OccupancyFrameSchema,
  PresenceEnterFrameSchema,
  PresenceEventFrameSchema,
  PresenceFollowFrameSchema,
  PresenceFrameSchema,
  PresenceLeaveFrameSchema,
  PresenceRefusedFrameSchema,
  PresenceUnfollowFrameSchema,
  PresenceUpdateFrameSchema,
} from "../../protocol/presence.ts";

const JSON_TEXT = "application/json";

/** The presence frames of `/v1/ws` (protocol/presence.ts), as AsyncAPI messages by their `type`. */
export const PRESENCE_MESSAGES = {
  "presence.follow": {
    payload: PresenceFollowFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "On /v1/ws: follow a topic's presence, with or without its events: members (the list in presence frames, then every change) or count (occupancy frames only).",
  },
  "presence.unfollow": {
    payload: PresenceUnfollowFrameSchema,
    contentType: JSON_TEXT,
    summary: "On /v1/ws: stop following a topic's presence.",
  },
  "presence.enter": {
    payload: PresenceEnterFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "On /v1/ws: this connection enters the topic's presence as its token's subject, with data (JSON, at most 1024 characters). The same session on a reconnect inside the linger is no leave + join.",
  },
  "presence.update": {
    payload: v.union([PresenceUpdateFrameSchema, PresenceEventFrameSchema]),
    contentType: JSON_TEXT,
    summary:
      "Client to mesh: replace the member's data (after presence.enter). Mesh to client: a member's data changed.",
  },
  "presence.leave": {
    payload: v.union([PresenceLeaveFrameSchema, PresenceEventFrameSchema]),
    contentType: JSON_TEXT,
    summary:
      "Client to mesh: this connection leaves the topic's presence. Mesh to client: a member left (its last connection went).",
  },
  presence: {
    payload: PresenceFrameSchema,
    contentType: JSON_TEXT,
    summary: "On /v1/ws: a page of the topic's members; page 0 starts the list, more: false ends it.",
  },
  "presence.join": {
    payload: PresenceEventFrameSchema,
    contentType: JSON_TEXT,
    summary: "On /v1/ws: a member came (its first connection entered), with its data.",
  },
  occupancy: {
    payload: OccupancyFrameSchema,
    contentType: JSON_TEXT,
    summary: "On /v1/ws: the topic's members and connections, after a follow and after each round of changes.",
  },
  "presence.refused": {
    payload: PresenceRefusedFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "On /v1/ws: a presence frame was refused (no_subject: the token has no subject; forbidden; not_entered). The socket goes on.",
  },
} as const;

/** What the mesh sends about presence, and what it takes. */
export const PRESENCE_SENT = [
  "presence",
  "presence.join",
  "presence.update",
  "presence.leave",
  "occupancy",
  "presence.refused",
] as const;
export const PRESENCE_RECEIVED = [
  "presence.follow",
  "presence.unfollow",
  "presence.enter",
  "presence.update",
  "presence.leave",
] as const;
