import { DurableObject } from "cloudflare:workers";
import type { Env } from "../runtime/env.ts";
import type { HubPush, HubPushResult, HubStats } from "./hub-rpc.ts";

/**
 * A hub: holds browser sockets that follow many topics each (`/v1/ws`), and serves them from the
 * pushes of the topics they follow. The Worker picks the hub (`hub-<i>`); this class only wires
 * the runtime to the hub's plain modules.
 */
export class SocketHub extends DurableObject<Env> {
  /** A topic's committed appends, pushed once to this hub for all its sockets that follow it. */
  async deliver(_push: HubPush): Promise<HubPushResult> {
    return { ok: false, code: "not_subscribed" };
  }

  /** Closes the hub's sockets of a revoked token or subject with 4401; answers how many. */
  async disconnect(_kind: "token" | "subject", _value: string): Promise<number> {
    return 0;
  }

  async stats(): Promise<HubStats> {
    return { hub: "", sockets: this.ctx.getWebSockets().length, topics: 0, subscriptions: 0, pulls: 0 };
  }
}
