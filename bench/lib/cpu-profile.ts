import WebSocket from "ws";
import { withTimeout } from "./stats.ts";

/** A V8 CPU profile as `Profiler.stop` returns it (the fields the bench reads). */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  /** The node each sample was taken in, in time order. */
  samples: number[];
  /** Microseconds from the previous sample to each sample. */
  timeDeltas: number[];
}

/** The sampling interval asked of V8: fine enough for a few seconds of load, light enough not to shape it. */
export const SAMPLING_INTERVAL_US = 250;

/**
 * V8's profiler of one workerd isolate, over the inspector workerd opens (Miniflare's
 * `inspectorPort`). The Worker and all its Durable Objects share the user worker's isolate
 * (`core:user:<name>`), so one profile holds every object's samples; attribution by source file
 * tells them apart. Miniflare's own entry worker (`core:entry`), which forwards each request to it,
 * is an isolate of its own.
 */
export class IsolateProfiler {
  private nextId = 0;
  private readonly pending = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown };
      if (message.id === undefined) return;
      this.pending.get(message.id)?.(message);
      this.pending.delete(message.id);
    });
  }

  /** Connects to the isolate whose inspector title ends with `isolate` (e.g. `core:user:bench`). */
  static async connect(inspectorPort: number, isolate: string): Promise<IsolateProfiler> {
    const res = await fetch(`http://127.0.0.1:${inspectorPort}/json`);
    const targets = (await res.json()) as { title: string; webSocketDebuggerUrl: string }[];
    const target = targets.find((t) => t.title.endsWith(isolate));
    if (!target) throw new Error(`no inspector target ${isolate}: ${targets.map((t) => t.title).join(", ")}`);
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await withTimeout(
      new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject)),
      10_000,
      "inspector connection",
    );
    const profiler = new IsolateProfiler(ws);
    await profiler.call("Profiler.enable");
    await profiler.call("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
    return profiler;
  }

  start(): Promise<unknown> {
    return this.call("Profiler.start");
  }

  async stop(): Promise<CpuProfile> {
    return ((await this.call("Profiler.stop")) as { profile: CpuProfile }).profile;
  }

  close(): void {
    this.ws.close();
  }

  private call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.nextId;
    const answer = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, (message) =>
        message.error ? reject(new Error(`${method}: ${JSON.stringify(message.error)}`)) : resolve(message.result),
      );
    });
    this.ws.send(JSON.stringify({ id, method, params }));
    return withTimeout(answer, 30_000, `inspector ${method}`);
  }
}
