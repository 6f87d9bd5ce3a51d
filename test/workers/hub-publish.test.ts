import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type PublishedFrame, publishFrameText, type ServerFrame } from "../../protocol/frames.ts";
import { KEYS } from "../support/credentials.ts";
import { type HubSocket, openHub, token } from "./support/hub-socket.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { caughtUp, seqsOf } from "./support/socket.ts";
import { allEvents, freshTopic, info } from "./topic-client.ts";

const member = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  source: "/browser",
  specversion: "1.0",
  type: "MemberJoined",
  data: { userId: "u-7", name: "Ada", email: "ada@example.com" },
  ...extra,
});

const answersTo = (frames: ServerFrame[], id: string) =>
  frames.filter((frame): frame is PublishedFrame => frame.type === "published" && frame.id === id);

/** Sends a `publish` frame and waits for its `published` answer (a request id may be sent again). */
async function publishOn(sock: HubSocket, id: string, topic: string, events: unknown[]): Promise<PublishedFrame> {
  const before = answersTo(sock.frames, id).length;
  sock.ws.send(publishFrameText({ id, topic, events }));
  await sock.until((frames) => answersTo(frames, id).length > before, `published ${id}`);
  return answersTo(sock.frames, id)[before];
}

const codes = (frame: PublishedFrame) => frame.results.map((r) => ("error" in r ? r.error.code : r.seq));

describe("publishing on /v1/ws with a token that allows publish", () => {
  it("stores the event, answers its seq, and a subscriber sees it signed by the token's subject", async () => {
    const topic = freshTopic("bp-ok");
    const reader = await openHub({ key: topic });
    reader.subscribe(topic);
    await reader.until(caughtUp(topic), "caught-up");
    const { token: jwt } = await token([topic], { ops: ["subscribe", "publish"], subject: "user-7" });
    const writer = await openHub({ key: topic }, jwt);

    const answer = await publishOn(writer, "r1", topic, [member("m1"), member("m2")]);
    expect(answer).toEqual({
      type: "published",
      id: "r1",
      topic,
      results: [
        { seq: 1, duplicate: false },
        { seq: 2, duplicate: false },
      ],
    });
    await reader.until((frames) => seqsOf(frames, topic).at(-1) === 2, "both events live");
    const live = reader.frames.flatMap((f) => (f.type === "event" ? [f.event] : []));
    expect(live.map((e) => [e.seq, e.id, e.authtype, e.authid])).toEqual([
      [1, "m1", "app_user", "user-7"],
      [2, "m2", "app_user", "user-7"],
    ]);

    // A token minted without a subject signs with its own id.
    const anonymous = await token([topic], { ops: ["subscribe", "publish"] });
    const other = await openHub({ key: topic }, anonymous.token);
    expect(codes(await publishOn(other, "r2", topic, [member("m3")]))).toEqual([3]);
    expect((await allEvents(topic)).at(-1)).toMatchObject({ authtype: "app_user", authid: anonymous.tokenId });
  });

  it("answers a repeated (source, id) with the original seq and stores it once", async () => {
    const topic = freshTopic("bp-dup");
    // Opening /v1/ws takes subscribe: a token that publishes on a socket allows both.
    const { token: jwt } = await token([topic], { ops: ["subscribe", "publish"] });
    const sock = await openHub({ key: topic }, jwt);
    expect((await publishOn(sock, "a", topic, [member("same")])).results).toEqual([{ seq: 1, duplicate: false }]);
    // The same request again (as the client resends it after a reconnect), and the event in a new batch.
    expect((await publishOn(sock, "a", topic, [member("same")])).results).toEqual([{ seq: 1, duplicate: true }]);
    expect(codes(await publishOn(sock, "b", topic, [member("same"), member("new")]))).toEqual([1, 2]);
    expect((await info(topic)).head).toBe(2);
  });

  it("answers each refused event with its code, stores only the good ones, and keeps the socket", async () => {
    const topic = freshTopic("bp-refuse");
    const { token: jwt } = await token([topic], { ops: ["subscribe", "publish"], subject: "user-9" });
    const sock = await openHub({ key: topic }, jwt);
    const answer = await publishOn(sock, "mixed", topic, [
      member("good"),
      member("bad-data", { data: { userId: "u-9", name: "Eve", email: "not-an-address" } }),
      member("forged", { authid: "admin" }),
      member("forged-type", { authtype: "api_key" }),
      { id: "no-source", specversion: "1.0", type: "MemberJoined" },
    ]);
    expect(codes(answer)).toEqual([1, "schema_mismatch", "invalid_envelope", "invalid_envelope", "invalid_envelope"]);
    expect(answer.results[2]).toMatchObject({
      error: { message: expect.stringContaining("authid is set by the mesh") },
    });

    const elsewhere = await publishOn(sock, "elsewhere", `${topic}-other`, [member("x")]);
    expect(elsewhere.results).toEqual([
      { error: { code: "forbidden", message: `this token does not allow publish on topic "${topic}-other"` } },
    ]);
    const events = await allEvents(topic);
    expect(events.map((e) => [e.id, e.authid])).toEqual([["good", "user-9"]]);
    expect(await info(`${topic}-other`).catch(() => null)).toMatchObject({ head: 0 });
    // The socket still takes frames.
    expect(codes(await publishOn(sock, "after", topic, [member("later")]))).toEqual([2]);
  });

  it("refuses a token without publish and a socket opened with a key, storing nothing", async () => {
    const topic = freshTopic("bp-noop");
    const readOnly = await openHub({ key: topic }, (await token([topic], { ops: ["subscribe"] })).token);
    expect(codes(await publishOn(readOnly, "r", topic, [member("x"), member("y")]))).toEqual([
      "forbidden",
      "forbidden",
    ]);
    const keySocket = await openHub({ key: topic });
    const byKey = await publishOn(keySocket, "k", topic, [member("z")]);
    expect(byKey.results[0]).toMatchObject({ error: { code: "forbidden", message: expect.stringContaining("POST") } });
    expect((await info(topic)).head).toBe(0);
  });
});

describe("the authcontext of HTTP publishes, and minting tokens that publish", () => {
  it("signs a key's events with its id and a token's with its subject; a token without publish is refused", async () => {
    const topic = freshTopic("bp-http");
    const post = (authorization: string, id: string) =>
      exports.default.fetch(`http://mesh/v1/topics/${topic}/events`, {
        method: "POST",
        headers: { authorization, "content-type": "application/cloudevents+json" },
        body: JSON.stringify(member(id)),
      });
    expect((await post(`Bearer ${KEYS.admin.secret}`, "by-key")).status).toBe(201);
    const writer = await token([topic], { ops: ["publish"], subject: "user-3" });
    expect((await post(`Bearer ${writer.token}`, "by-token")).status).toBe(201);
    const reader = await token([topic]);
    const refused = await post(`Bearer ${reader.token}`, "by-reader");
    expect(refused.status).toBe(403);
    expect((await allEvents(topic)).map((e) => [e.id, e.authtype, e.authid])).toEqual([
      ["by-key", "api_key", KEYS.admin.id],
      ["by-token", "app_user", "user-3"],
    ]);
  });

  it("mints a publishing token only for a key that may publish there", async () => {
    const mint = (key: string, body: unknown) =>
      meshFetch("/v1/tokens", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const allowed = await mint(KEYS.admin.secret, { topics: ["chat.*"], ops: ["subscribe", "publish"] });
    expect(allowed.status).toBe(201);
    expect(await allowed.json()).toMatchObject({ ops: ["subscribe", "publish"] });
    // This key may mint for notifications.* but holds no publish of its own.
    const minterOnly = KEYS.notificationsMinter.secret;
    const refused = await mint(minterOnly, { topics: ["notifications.a"], ops: ["subscribe", "publish"] });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "forbidden", operation: "publish" } });
    expect((await mint(minterOnly, { topics: ["notifications.a"] })).status).toBe(201);
  });
});
