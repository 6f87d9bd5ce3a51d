import { describe, expect, it } from "vitest";
import { SocketCounts } from "../../durable-objects/socket-counts.ts";

/** The runtime's side: the sockets it holds with their tags, and how often it was asked for them. */
function fakeRuntime() {
  const held = new Map<WebSocket, string[]>();
  const runtime = { held, lists: 0 };
  const ctx = {
    getWebSockets: () => {
      runtime.lists += 1;
      return [...held.keys()];
    },
    getTags: (ws: WebSocket) => held.get(ws) ?? [],
  } as unknown as ConstructorParameters<typeof SocketCounts>[0];
  const open = (counts: SocketCounts, tags: string[]) => {
    const ws = {} as WebSocket;
    held.set(ws, tags);
    counts.opened(ws, tags);
    return ws;
  };
  return { runtime, ctx, open };
}

describe("SocketCounts", () => {
  it("counts sockets in all and per tag as they open and close, asking the runtime once", () => {
    const { runtime, ctx, open } = fakeRuntime();
    const counts = new SocketCounts(ctx);
    const a = open(counts, ["client:a"]);
    open(counts, ["client:a"]);
    open(counts, ["client:b"]);
    expect(counts.atLimit("client:a", 3)).toBe(false);
    expect(counts.atLimit(null, 4)).toBe(false);
    runtime.held.delete(a);
    counts.closed(a);
    counts.closed(a);
    expect(counts.atLimit("client:a", 2)).toBe(false);
    expect(runtime.lists).toBe(1);
  });

  it("starts from the sockets the runtime holds after a wake", () => {
    const { ctx, open } = fakeRuntime();
    const before = new SocketCounts(ctx);
    open(before, ["client:a"]);
    open(before, ["client:a"]);
    const woken = new SocketCounts(ctx);
    expect(woken.atLimit("client:a", 2)).toBe(true);
    expect(woken.atLimit("client:a", 3)).toBe(false);
  });

  it("confirms a reached limit against the runtime, so a close never reported does not keep sockets out", () => {
    const { runtime, ctx, open } = fakeRuntime();
    const counts = new SocketCounts(ctx);
    const lost = open(counts, ["client:a"]);
    open(counts, ["client:a"]);
    // The runtime dropped one socket without a close reaching the object.
    runtime.held.delete(lost);
    expect(counts.atLimit("client:a", 2)).toBe(false);
    expect(counts.atLimit("client:a", 1)).toBe(true);
  });
});
