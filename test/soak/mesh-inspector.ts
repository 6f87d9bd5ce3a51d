import WebSocket from "ws";

/** The mesh isolate's JavaScript heap: in use after a full garbage collection, and reserved. */
export interface HeapFigures {
  live: number;
  total: number;
}

/**
 * The soak as a DevTools client of the mesh, through the inspector port of `wrangler dev`.
 *
 * Two reasons. wrangler's inspector proxy (in its dev proxy workerd) keeps every inspector event of
 * the Worker (each console line, each subrequest's Network events) in an array that only a
 * connected DevTools client empties; with none, that array grows for as long as the server runs.
 * Staying connected and dropping what arrives keeps that buffer of the dev tooling out of the
 * curve. And a full collection before reading the heap tells what the mesh's own JavaScript keeps
 * alive, which no RSS figure separates from garbage not yet collected.
 */
export class MeshInspector {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();
  /** Inspector events received and dropped. */
  events = 0;

  constructor(readonly port: number) {}

  /** Collects garbage in the mesh isolate and reads its heap; null when the inspector does not answer. */
  async heap(): Promise<HeapFigures | null> {
    try {
      await this.call("HeapProfiler.collectGarbage");
      const usage = (await this.call("Runtime.getHeapUsage")) as { usedSize: number; totalSize: number };
      return { live: usage.usedSize, total: usage.totalSize };
    } catch {
      return null;
    }
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }

  private async call(method: string): Promise<unknown> {
    const socket = await this.connected();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer`));
      }, 5_000);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      socket.send(JSON.stringify({ id, method }));
    });
  }

  /** The open connection, or a new one (the server restarts, and the inspector with it). */
  private async connected(): Promise<WebSocket> {
    if (this.socket?.readyState === WebSocket.OPEN) return this.socket;
    this.close();
    const socket = new WebSocket(`ws://127.0.0.1:${this.port}/ws`, { headers: { host: `127.0.0.1:${this.port}` } });
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
      const answer = message.id === undefined ? undefined : this.pending.get(message.id);
      if (answer) {
        this.pending.delete(message.id as number);
        answer(message.result);
      } else this.events += 1;
    });
    socket.on("close", () => {
      if (this.socket === socket) this.socket = null;
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    socket.on("error", () => socket.terminate());
    this.socket = socket;
    return socket;
  }
}
