import { topicMatches } from "../protocol/auth.ts";
import { tokenAuthContext, withAuthContext } from "../protocol/auth-context.ts";
import type { Catalog } from "../protocol/catalog.ts";
import type { PublishedFrame, PublishFrame, PublishOutcome } from "../protocol/frames.ts";
import { type AcceptedEvent, acceptedEvent } from "../protocol/mesh-event.ts";
import type { PublishedEvent } from "../protocol/responses.ts";
import type { SocketCredential } from "../protocol/socket-credential.ts";
import { checkEvent } from "../runtime/check-event.ts";
import type { MeshConfig } from "../runtime/config.ts";
import { MeshError, toMeshError } from "../runtime/mesh-error.ts";

/** The window of the rate limiting binding the hub counts with (wrangler.toml: 10 s). */
const RATE_WINDOW_SECONDS = 10;

/** What a hub needs to publish for its sockets: the checks' settings, the rate limiter, the topics. */
export interface HubPublishDeps {
  config: Pick<MeshConfig, "maxEventBytes" | "unknownEventTypes">;
  catalog: () => Catalog;
  /**
   * Counts one publish request under `key` (the same key the HTTP route counts a token's requests
   * under, so both paths share one budget); false once past the limit.
   */
  limit: (key: string) => Promise<boolean>;
  /** The topic's log appends the events in one transaction (the same call as an HTTP publish). */
  append: (topic: string, events: AcceptedEvent[]) => Promise<{ events: PublishedEvent[] }>;
}

/**
 * A socket's `publish` frame, answered with one `published` frame. The frame as a whole needs a
 * token that allows `publish` on the topic and is within the token's rate; then each event is
 * checked on its own (size, envelope, catalog), the accepted ones get the token's authcontext and
 * are appended together, and every event gets its own answer: its seq (the original one for a
 * repeated `(source, id)`), or its refusal with a stable code.
 */
export async function publishFromSocket(
  deps: HubPublishDeps,
  token: SocketCredential | null,
  frame: PublishFrame,
  now = new Date(),
): Promise<PublishedFrame> {
  const answer = (results: PublishOutcome[]): PublishedFrame => ({
    type: "published",
    id: frame.id,
    topic: frame.topic,
    results,
  });
  const refuseAll = (error: MeshError) => answer(frame.events.map(() => refusalOf(error)));
  try {
    if (token === null) {
      return refuseAll(
        new MeshError(
          "forbidden",
          "publishing on a socket takes a subscriber token that allows publish; a key publishes with POST /v1/topics/:topic/events",
        ),
      );
    }
    const refused = scopeRefusal(token, frame.topic);
    if (refused) return refuseAll(refused);
    if (!(await deps.limit(`publish:token:${token.tokenId}`))) {
      return refuseAll(
        new MeshError(
          "rate_limited",
          `too many publish requests from this token; retry after ${RATE_WINDOW_SECONDS} s`,
        ),
      );
    }
    const context = tokenAuthContext(token);
    const catalog = deps.catalog();
    const outcomes: (PublishOutcome | null)[] = [];
    const accepted: AcceptedEvent[] = [];
    frame.events.forEach((input, index) => {
      try {
        const event = checkEvent(input, index, frame.events.length, deps.config, catalog, now);
        accepted.push(acceptedEvent(withAuthContext(event, context)));
        outcomes.push(null);
      } catch (error) {
        outcomes.push(refusalOf(toMeshError(error)));
      }
    });
    if (accepted.length === 0) return answer(outcomes as PublishOutcome[]);
    const stored = (await deps.append(frame.topic, accepted)).events;
    let next = 0;
    return answer(
      outcomes.map((outcome) => {
        if (outcome !== null) return outcome;
        const { seq, duplicate } = stored[next++];
        return { seq, duplicate };
      }),
    );
  } catch (error) {
    // The topic could not be reached, or its answer was lost: the events may or may not be stored,
    // and sending them again is safe, since dedup stores each (source, id) once.
    return refuseAll(toMeshError(error));
  }
}

function refusalOf(error: MeshError): PublishOutcome {
  return { error: { code: error.code, message: error.message } };
}

/** Only a token that allows `publish` on the topic publishes on a socket. */
function scopeRefusal(token: SocketCredential, topic: string): MeshError | null {
  const ops: readonly string[] = token.ops;
  if (!ops.includes("publish") || !token.topics.some((pattern) => topicMatches(pattern, topic))) {
    return new MeshError("forbidden", `this token does not allow publish on topic "${topic}"`);
  }
  return null;
}
