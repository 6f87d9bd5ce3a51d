import type { IncomingMessage, ServerResponse } from "node:http";
import type { PublishedEvent } from "../../protocol/responses.ts";
import { LocalHttpServer, readRequestBody } from "./local-http.ts";

/**
 * What the stand-in does with the next request instead of answering it:
 * - `store-then-drop`: stores the events, then cuts the connection (an answer lost, as when the
 *   server restarts between the write and the answer);
 * - `503`: answers `overloaded` with `Retry-After: 0`, storing nothing;
 * - `403`: answers `forbidden`, a refusal of the request as a whole.
 */
export type ScriptedFault = "store-then-drop" | "503" | "403";

export interface ScriptedRequest {
  topic: string;
  contentType: string;
  /** The request's events, as sent. */
  events: { id: string; source: string; type: string }[];
  bytes: number;
  /** When it arrived (performance.now()). */
  at: number;
}

/**
 * A stand-in for the mesh's publish route on 127.0.0.1, for publisher tests: it keeps each topic's
 * log with contiguous seqs and dedup by (source, id), refuses a request like the mesh does
 * (all-or-nothing) when an event has type `Invalid` (422 `schema_mismatch` naming its index) or when
 * there are more than `maxBatchEvents` events (413 `batch_too_large`), and runs scripted faults first.
 */
export class ScriptedMesh extends LocalHttpServer {
  readonly requests: ScriptedRequest[] = [];
  /** Each topic's stored events in seq order (seq = position + 1). */
  readonly logs = new Map<string, { id: string; source: string }[]>();
  /** Faults for the next requests, taken in order. */
  readonly faults: ScriptedFault[] = [];

  constructor(private readonly maxBatchEvents = 100) {
    super();
  }

  protected fail(err: unknown, res: ServerResponse): void {
    res.destroy(err as Error);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readRequestBody(req);
    const topic = decodeURIComponent((req.url ?? "").split("/")[3] ?? "");
    const contentType = req.headers["content-type"] ?? "";
    const parsed = JSON.parse(body.toString("utf8"));
    const events: ScriptedRequest["events"] = Array.isArray(parsed) ? parsed : [parsed];
    this.requests.push({ topic, contentType, events, bytes: body.byteLength, at: performance.now() });

    const fault = this.faults.shift();
    if (fault === "503") return answer(res, 503, error("overloaded", "try again", {}), { "retry-after": "0" });
    if (fault === "403") return answer(res, 403, error("forbidden", "not this topic", { topic }));
    if (events.length === 0) return answer(res, 400, error("invalid_body", "a batch must hold at least one event", {}));
    if (events.length > this.maxBatchEvents) {
      return answer(res, 413, error("batch_too_large", "too many", { limit: this.maxBatchEvents }));
    }
    const index = events.findIndex((e) => e.type === "Invalid");
    if (index >= 0) {
      const at = events.length > 1 ? ` (event ${index})` : "";
      return answer(res, 422, error("schema_mismatch", `data does not match${at}`, { index, type: "Invalid" }));
    }
    const published = this.store(topic, events);
    if (fault === "store-then-drop") {
      req.socket.destroy();
      return;
    }
    answer(res, published.every((e) => e.duplicate) ? 200 : 201, { topic, events: published });
  }

  private store(topic: string, events: ScriptedRequest["events"]): PublishedEvent[] {
    const log = this.logs.get(topic) ?? [];
    this.logs.set(topic, log);
    return events.map(({ id, source }) => {
      const before = log.findIndex((e) => e.id === id && e.source === source);
      if (before >= 0) return { id, source, seq: before + 1, duplicate: true };
      log.push({ id, source });
      return { id, source, seq: log.length, duplicate: false };
    });
  }
}

function error(code: string, message: string, details: Record<string, unknown>) {
  return { error: { code, message, ...details } };
}

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
