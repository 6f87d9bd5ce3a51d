import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import type { SocketHub } from "../../../durable-objects/socket-hub.ts";
import { hubStub } from "./hub-socket.ts";

/** The hub's head write is still to come (`HubFeeds.saveHead`): a pending timer keeps an object from hibernating. */
const headWritePending = (hub: SocketHub): boolean =>
  (hub as unknown as { feeds: { saveTimer: unknown } }).feeds.saveTimer !== null;

/**
 * The hub hibernates and wakes as the runtime does it: once no timer is pending, then a new
 * instance on the same state and sockets, with nothing of the old memory.
 */
export async function hibernateAndWake(hub: string): Promise<void> {
  await vi.waitFor(
    () => runInDurableObject(hubStub(hub), (instance: SocketHub) => expect(headWritePending(instance)).toBe(false)),
    { timeout: 10_000, interval: 20 },
  );
  await runInDurableObject(hubStub(hub), (instance: SocketHub, state) => {
    const Hub = instance.constructor as new (ctx: DurableObjectState, e: typeof env) => SocketHub;
    Object.assign(instance, new Hub(state, env));
  });
}
