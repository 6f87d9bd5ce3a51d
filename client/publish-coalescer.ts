import { DEFAULT_LIMITS } from "../protocol/limits.ts";
import type { PublishResponse } from "../protocol/responses.ts";
import { PublishError } from "./publish-error.ts";

/** How concurrent publish() calls to one topic share requests (`coalesce` in the publisher's options). */
export interface CoalesceOptions {
  /**
   * How long the first call of a request waits for more, in ms. The default 0 sets no timer: the
   * request leaves once the code that made the call reaches its next await (a microtask), so calls
   * made together (a loop, Promise.all, callers woken by one answer) share it and a lone call waits
   * for nothing. Above 0, calls that arrive apart (from separate incoming requests, say) share a
   * request too, and every call waits that long.
   */
  lingerMs?: number;
  /** Events in one request at most (default 100, the server's default MAX_BATCH_EVENTS). */
  maxEvents?: number;
  /** Bytes of one request's body at most (default 1 MiB, the server's default MAX_BODY_BYTES). */
  maxBytes?: number;
}

/** One publish() call: its events already as JSON text, and whether the caller passed an array. */
export interface PublishCall {
  texts: string[];
  batch: boolean;
  signal?: AbortSignal;
}

/**
 * Sends one request body, retrying as the publisher's options say, and resolves with the server's
 * answer (one entry per event, `count` in all); rejects with a PublishError, or when `signal` aborts.
 */
export type SendRequest = (
  topic: string,
  body: string,
  batch: boolean,
  count: number,
  signal: AbortSignal,
) => Promise<PublishResponse>;

/** A call waiting for its answer, alone or inside a coalesced request. */
interface Waiting extends PublishCall {
  /** Its events' JSON with the commas between them, in UTF-8 bytes. */
  bytes: number;
  /** Answered, refused or aborted: a call settles once. */
  done: boolean;
  /** Set by the request the call rides in: its caller aborted. */
  onAbort: (() => void) | null;
  settle(outcome: { answer: PublishResponse } | { error: unknown }): void;
}

/** Calls to one topic gathering for one request. */
interface Gathering {
  calls: Waiting[];
  events: number;
  /** Bytes of the batch body they make, brackets and commas included. */
  bytes: number;
  timer: ReturnType<typeof setTimeout> | null;
}

const encoder = new TextEncoder();

/**
 * Publishes calls to one topic made close together as one batch request, and gives each caller its
 * own part of the answer. A batch is all-or-nothing on the server, so a refusal that names an event
 * takes that event's caller out and sends the others again (their ids make a resend safe), and the
 * caller taken out gets the answer of its own request: one bad event fails only its caller.
 * With `false`, every call is its own request.
 */
export function createCoalescer(send: SendRequest, options: CoalesceOptions | false) {
  const bounds =
    options === false
      ? null
      : {
          lingerMs: options.lingerMs ?? 0,
          maxEvents: options.maxEvents ?? DEFAULT_LIMITS.maxBatchEvents,
          maxBytes: options.maxBytes ?? DEFAULT_LIMITS.maxBodyBytes,
        };
  const gathering = new Map<string, Gathering>();

  const flush = (topic: string, group: Gathering) => {
    if (gathering.get(topic) !== group) return;
    gathering.delete(topic);
    if (group.timer !== null) clearTimeout(group.timer);
    void dispatch(send, topic, group.calls);
  };

  return (topic: string, call: PublishCall): Promise<PublishResponse> =>
    new Promise((resolve, reject) => {
      const signal = call.signal;
      if (signal?.aborted) return reject(signal.reason);
      const onSignal = () => {
        waiting.settle({ error: signal?.reason });
        waiting.onAbort?.();
      };
      const waiting: Waiting = {
        ...call,
        bytes: bounds ? call.texts.reduce((n, text) => n + encoder.encode(text).byteLength, call.texts.length - 1) : 0,
        done: false,
        onAbort: null,
        settle(outcome) {
          if (waiting.done) return;
          waiting.done = true;
          signal?.removeEventListener("abort", onSignal);
          if ("answer" in outcome) resolve(outcome.answer);
          else reject(outcome.error);
        },
      };
      signal?.addEventListener("abort", onSignal, { once: true });
      if (!bounds) return void dispatch(send, topic, [waiting]);

      const count = call.texts.length;
      // An empty batch, or one over the bounds on its own, is sent alone: the server judges it.
      if (count === 0 || count > bounds.maxEvents || waiting.bytes + 2 > bounds.maxBytes) {
        return void dispatch(send, topic, [waiting]);
      }
      let group = gathering.get(topic);
      if (group && (group.events + count > bounds.maxEvents || group.bytes + 1 + waiting.bytes > bounds.maxBytes)) {
        flush(topic, group);
        group = undefined;
      }
      if (!group) {
        const created: Gathering = { calls: [], events: 0, bytes: 1, timer: null };
        // Linger 0 needs no timer: a microtask runs once the code that made the call awaits.
        if (bounds.lingerMs > 0) created.timer = setTimeout(() => flush(topic, created), bounds.lingerMs);
        else queueMicrotask(() => flush(topic, created));
        gathering.set(topic, created);
        group = created;
      }
      group.calls.push(waiting);
      group.events += count;
      group.bytes += 1 + waiting.bytes;
      if (group.events >= bounds.maxEvents) flush(topic, group);
    });
}

/** Sends the calls still waiting as one request and settles each; never rejects. */
async function dispatch(send: SendRequest, topic: string, calls: Waiting[]): Promise<void> {
  const sent = calls.filter((call) => !call.done);
  if (sent.length === 0) return;
  // The request stops (fetch or wait between attempts) only once every caller in it has aborted.
  const request = new AbortController();
  for (const call of sent) {
    call.onAbort = () => {
      if (sent.every((c) => c.done)) request.abort();
    };
  }
  // One call is sent exactly as it came (one event in structured mode); several as one batch.
  const alone = sent.length === 1 ? sent[0] : null;
  const body = alone && !alone.batch ? alone.texts[0] : `[${sent.map((call) => call.texts.join(",")).join(",")}]`;
  const count = sent.reduce((n, call) => n + call.texts.length, 0);
  const outcome = await send(topic, body, alone ? alone.batch : true, count, request.signal).then(
    (answer) => ({ answer }),
    (error: unknown) => ({ error }),
  );
  for (const call of sent) call.onAbort = null;

  if ("answer" in outcome) {
    let offset = 0;
    for (const call of sent) {
      const events = outcome.answer.events.slice(offset, offset + call.texts.length);
      offset += call.texts.length;
      call.settle({ answer: { topic: outcome.answer.topic, events } });
    }
    return;
  }
  const { error } = outcome;
  if (alone === null && error instanceof PublishError) {
    const offender = offendingCall(sent, error);
    if (offender) {
      // Its own request gives it the refusal it would have had alone, its own event index included.
      void dispatch(send, topic, [offender]);
      void dispatch(
        send,
        topic,
        sent.filter((call) => call !== offender),
      );
      return;
    }
    // Too large as a whole (a server or proxy with lower limits than the bounds): each call alone.
    if (error.status === 413) {
      for (const call of sent) void dispatch(send, topic, [call]);
      return;
    }
  }
  // Anything else concerns the request as a whole (credentials, topic, server): the same for every caller.
  for (const call of sent) call.settle({ error });
}

/** The call whose event the refusal names (`index` in the request's batch), if it names one. */
function offendingCall(calls: Waiting[], error: PublishError): Waiting | undefined {
  const index = error.details.index;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0) return undefined;
  let end = 0;
  for (const call of calls) {
    end += call.texts.length;
    if (index < end) return call;
  }
  return undefined;
}
