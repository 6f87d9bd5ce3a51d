import { env, exports } from "cloudflare:workers";
import type { TokenRequest } from "../../../protocol/auth.ts";
import { type SubscribeFrame, subscribeFrameText } from "../../../protocol/frames.ts";
import { mintToken } from "../../../runtime/tokens.ts";
import { KEYS, TOKEN_SECRET } from "../../support/credentials.ts";
import { meshFetch } from "./mesh-fetch.ts";
import { collect, type Socket } from "./socket.ts";

/** A hub of the pool by name (`hub-0` …), for calls and `runInDurableObject`. */
export const hubStub = (name: string) => env.SOCKET_HUB.get(env.SOCKET_HUB.idFromName(name));

export interface HubSocket extends Socket {
  hub: string;
  subscribe(topic: string, frame?: Omit<SubscribeFrame, "type" | "topic">): void;
}

/** Opens `/v1/ws` through the Worker: with the admin key, or a token in the query as a browser sends it. */
export async function openHub(query: Record<string, string> = {}, token?: string): Promise<HubSocket> {
  const params = new URLSearchParams({ ...query, ...(token ? { token } : {}) });
  const init = { headers: { upgrade: "websocket" } };
  const url = `http://mesh/v1/ws?${params}`;
  const res = await (token ? exports.default.fetch(url, init) : meshFetch(url, init));
  const hub = res.headers.get("x-mesh-hub") ?? "";
  const socket = collect(res);
  return {
    ...socket,
    hub,
    subscribe: (topic, frame = {}) => socket.ws.send(subscribeFrameText({ topic, ...frame })),
  };
}

/** A subscriber token minted by the admin key (subscribe and history unless `extra` says otherwise). */
export async function token(topics: string[], extra: Partial<TokenRequest> = {}) {
  const request: TokenRequest = { topics, ops: ["subscribe", "history"], ttlSeconds: 600, ...extra };
  const { token: jwt, claims } = await mintToken(request, KEYS.admin, TOKEN_SECRET);
  return { token: jwt, tokenId: claims.jti };
}
