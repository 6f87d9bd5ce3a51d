import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { ackFrame, markIdOf, parseServerFrame, subscribeFrameText } from "../../../../protocol/frames.ts";
import { hubName, rankHubs } from "../../../../worker/hub-choice.ts";
import { hubStub } from "../../../workers/support/hub-socket.ts";
import { meshFetch } from "../../../workers/support/mesh-fetch.ts";

export { hubStub };

/** The workers pool's hub pool (wrangler.toml's HUB_POOL_SIZE). */
export const POOL_SIZE = 256;

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
export const topicStub = (topic: string) => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));

/** The hub a `/v1/ws` socket with routing key `key` lands on first. */
export const firstHubOf = (key: string) => hubName(rankHubs(key, POOL_SIZE)[0]);

/** A routing key, derived from `base`, whose first hub is not any of `avoid`. */
export function keyAvoiding(base: string, avoid: readonly string[]): string {
  for (let i = 0; ; i += 1) {
    const key = `${base}-${i}`;
    if (!avoid.includes(firstHubOf(key))) return key;
  }
}

/** Ends an object the hard way (ctx.abort, as an eviction or a crash ends it): its memory and in-flight work are gone. */
export async function abortObject(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    try {
      state.abort("reliability test: abort mid-stream");
    } catch {
      // abort() throws into its caller once the object is broken.
    }
  }).catch(() => undefined);
}

let published = 0;
const nextId = () => {
  published += 1;
  return `ha${published}`;
};

/**
 * Publishes `count` events of `type`, retrying the same events (same ids) when the topic's object
 * was aborted under the call, as the publisher SDK does: dedup keeps each event once in the log.
 */
export async function publish(topic: string, count: number, type = "Thing"): Promise<void> {
  const body = JSON.stringify(
    Array.from({ length: count }, () => ({ id: nextId(), source: "/hub-abort", type, specversion: "1.0" })),
  );
  for (let attempt = 1; ; attempt += 1) {
    let status = 0;
    try {
      const res = await meshFetch(`/v1/topics/${topic}/events`, {
        method: "POST",
        headers: { "content-type": "application/cloudevents-batch+json" },
        body,
      });
      status = res.status;
      await res.text();
      if (status === 201 || status === 200) return;
    } catch {
      // The object was aborted under the call: send the same events again.
    }
    if (attempt >= 20) throw new Error(`publish to ${topic} failed ${attempt} times (last status ${status})`);
  }
}

/**
 * A follower of one topic over `/v1/ws`, as the shared client is: it keeps the last seq it got
 * and, on a new socket, subscribes with `after` = that seq (and the epoch it knows). `seqs` is every
 * event the app would see, across all its sockets, with no dedup: a duplicate stays visible.
 */
export class HubFollower {
  readonly seqs: number[] = [];
  /** The hub of each connection, from the 101's x-mesh-hub. */
  readonly hubs: string[] = [];
  /** `caught-up` frames of the current socket. */
  caughtUps = 0;
  /** Frames other than events, of this topic, across sockets. */
  readonly others: string[] = [];
  epoch: string | undefined;
  ws: WebSocket | null = null;
  /** Answers every mark with its ack (a client reading along); false: a reader that stopped acking. */
  acking = true;
  /** Marks read and not answered while not acking. */
  readonly unansweredMarks: string[] = [];
  closed: Promise<number> = Promise.resolve(0);

  constructor(
    readonly topic: string,
    public key: string,
    private readonly types?: string[],
  ) {}

  get last(): number {
    return this.seqs.at(-1) ?? 0;
  }

  get hub(): string {
    return this.hubs.at(-1) ?? "";
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens a socket through the Worker; subscribes at once unless told not to. */
  async connect(subscribeNow = true): Promise<void> {
    const res = await meshFetch(`/v1/ws?key=${encodeURIComponent(this.key)}`, { headers: { upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const ws = res.webSocket;
    if (!ws) throw new Error("no webSocket on the 101 response");
    this.hubs.push(res.headers.get("x-mesh-hub") ?? "");
    this.caughtUps = 0;
    this.closed = new Promise((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
    ws.addEventListener("message", (e) => this.receive(ws, String(e.data)));
    ws.accept();
    this.ws = ws;
    if (subscribeNow) this.subscribe();
  }

  subscribe(): void {
    this.ws?.send(subscribeFrameText({ topic: this.topic, after: this.last, epoch: this.epoch, types: this.types }));
  }

  /** Connects again (after its socket was closed under it) and subscribes from its own cursor. */
  async resume(): Promise<void> {
    await this.connect();
  }

  close(): void {
    try {
      this.ws?.close(1000);
    } catch {
      // Already closed.
    }
  }

  private receive(ws: WebSocket, text: string): void {
    if (ws !== this.ws) return;
    const mark = markIdOf(text);
    if (mark !== null) {
      if (this.acking) ws.send(ackFrame(mark));
      else this.unansweredMarks.push(mark);
      return;
    }
    const frame = parseServerFrame(text);
    if (!frame || !("topic" in frame) || frame.topic !== this.topic) return;
    if (frame.type === "event") this.seqs.push(frame.event.seq);
    else if (frame.type === "events") for (const event of frame.events) this.seqs.push(event.seq);
    else {
      this.others.push(frame.type);
      if (frame.type === "caught-up") {
        this.caughtUps += 1;
        this.epoch = frame.epoch;
      }
    }
  }
}
