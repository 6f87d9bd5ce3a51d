import WebSocket from "ws";
import { MarkAcks } from "./acks.ts";
import { sleep } from "./stats.ts";

/** What each received text message is handed to; `index` says which subscriber got it. */
export type OnMessage = (text: string, index: number) => void;

/**
 * N WebSocket clients to one URL, all in this process. `ready` is the text a subscriber must see
 * before it counts as connected (the mesh's `caught-up` frame; nothing for the peers).
 */
export class Subscribers {
  private sockets: WebSocket[] = [];
  onMessage: OnMessage = () => {};
  /** The value of `options.header` on each socket's 101 answer (e.g. which hub took it). */
  readonly headerValues: string[] = [];

  /**
   * `acks`: acknowledge what was read, as the mesh's flow control expects (peers do without).
   * `greeting`: a text sent once open (a `subscribe` frame on `/v1/ws`). `header`: a header of the
   * 101 answer to keep in `headerValues`.
   */
  static async open(
    url: string,
    count: number,
    ready: RegExp | null,
    options: { acks?: boolean; timeoutMs?: number; greeting?: string; header?: string } = {},
  ): Promise<Subscribers> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const subs = new Subscribers();
    const deadline = Date.now() + timeoutMs;
    // A few at a time: a thousand simultaneous upgrades would measure the accept queue, not the mesh.
    const parallel = 50;
    for (let start = 0; start < count; start += parallel) {
      const batch = Array.from({ length: Math.min(parallel, count - start) }, (_, i) =>
        subs.openOne(url, start + i, ready, deadline, options),
      );
      subs.sockets.push(...(await Promise.all(batch)));
    }
    return subs;
  }

  private openOne(
    url: string,
    index: number,
    ready: RegExp | null,
    deadline: number,
    options: { acks?: boolean; greeting?: string; header?: string },
  ): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const counter = options.acks ? new MarkAcks((text) => ws.send(text)) : null;
      const header = options.header;
      if (header) {
        ws.once("upgrade", (res) => {
          const value = res.headers[header];
          if (typeof value === "string") this.headerValues.push(value);
        });
      }
      const timer = setTimeout(
        () => {
          ws.terminate();
          reject(new Error(`subscriber ${index} to ${url} was not ready in time`));
        },
        Math.max(1, deadline - Date.now()),
      );
      let isReady = false;
      const markReady = () => {
        isReady = true;
        clearTimeout(timer);
        resolve(ws);
      };
      ws.on("message", (data: WebSocket.RawData) => {
        const text = data.toString();
        counter?.read(text);
        if (!isReady) {
          if (ready?.test(text)) markReady();
          return;
        }
        this.onMessage(text, index);
      });
      ws.once("open", () => {
        if (options.greeting) ws.send(options.greeting);
        if (ready === null) markReady();
      });
      ws.once("error", (err) => {
        clearTimeout(timer);
        if (!isReady) reject(new Error(`subscriber ${index} to ${url}: ${err.message}`));
      });
      ws.once("close", (code) => {
        clearTimeout(timer);
        if (!isReady) reject(new Error(`subscriber ${index} to ${url} closed with ${code} before it was ready`));
      });
    });
  }

  get count(): number {
    return this.sockets.length;
  }

  /** Closes every socket and waits (bounded) for the closes to finish. */
  async close(): Promise<void> {
    const closing = this.sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once("close", () => resolve());
          ws.close(1000, "bench done");
        }),
    );
    await Promise.race([Promise.all(closing), sleep(5_000)]);
    for (const ws of this.sockets) ws.terminate();
    this.sockets = [];
  }
}

/** Polls `done` until it holds or `timeoutMs` passes; true when it held. */
export async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(2);
  }
  return true;
}
