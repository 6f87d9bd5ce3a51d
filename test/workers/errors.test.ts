import { describe, expect, it } from "vitest";
import { allEvents, event, freshTopic, info, post, publish, request } from "./topic-client.ts";

interface Refusal {
  status: number;
  body: { error: { code: string; message: string } & Record<string, unknown> };
  headers: Headers;
}

async function refusal(res: Response): Promise<Refusal> {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/**
 * Sends a bad request to a topic holding one event and checks the refusal; then checks that
 * nothing was stored and that the topic still takes a good publish at the next seq.
 */
async function refusedWithoutEffect(send: (topic: string) => Promise<Response>): Promise<Refusal> {
  const topic = freshTopic("refuse");
  await publish(topic, event("seed"));
  const before = await info(topic);
  const answer = await refusal(await send(topic));
  expect(await info(topic)).toEqual(before);
  expect((await allEvents(topic)).map((e) => e.id)).toEqual(["seed"]);
  const after = await publish(topic, event("after"));
  expect(after.events[0]).toMatchObject({ seq: 2, duplicate: false });
  return answer;
}

const bigData = (bytes: number) => "x".repeat(bytes);

describe("refusals of a publish: a clear error and nothing stored", () => {
  it("400 malformed_json", async () => {
    const { status, body } = await refusedWithoutEffect((t) => post(t, '{"id": "1",', "application/cloudevents+json"));
    expect(status).toBe(400);
    expect(body.error.code).toBe("malformed_json");
    expect(body.error.message).toMatch(/^the body is not valid JSON: /);
  });

  it.each([
    ["id", { id: undefined }, "invalid CloudEvent: id is required"],
    ["source", { source: "" }, "invalid CloudEvent: source must not be empty"],
    ["source", { source: "not a uri %%" }, "invalid CloudEvent: source must be a URI-reference (RFC 3986)"],
    ["dataschema", { dataschema: "::::" }, "invalid CloudEvent: dataschema must be an absolute URI (RFC 3986)"],
    [
      "datacontenttype",
      { datacontenttype: "json" },
      "invalid CloudEvent: datacontenttype must be a media type such as application/json (RFC 2046)",
    ],
    ["type", { type: 3 }, "invalid CloudEvent: type must be a string"],
    ["specversion", { specversion: "0.3" }, 'invalid CloudEvent: specversion must be "1.0"'],
    ["time", { time: "noon" }, "invalid CloudEvent: time must be an RFC 3339 timestamp"],
    [
      "Bad-Ext",
      { "Bad-Ext": "v" },
      'invalid CloudEvent: extension attribute "Bad-Ext" must be lower-case letters a-z or digits 0-9',
    ],
  ])("400 invalid_envelope naming %s", async (attribute, patch, message) => {
    const { status, body } = await refusedWithoutEffect((t) => post(t, { ...event("bad"), ...patch }));
    expect(status).toBe(400);
    expect(body.error).toEqual({ code: "invalid_envelope", message, attribute, index: 0 });
  });

  it("400 invalid_envelope for a bad event inside a batch, naming its index", async () => {
    const { body } = await refusedWithoutEffect((t) =>
      post(t, [event("ok1"), event("ok2"), { ...event("bad"), id: "" }], "application/cloudevents-batch+json"),
    );
    expect(body.error).toMatchObject({ code: "invalid_envelope", attribute: "id", index: 2 });
    expect(body.error.message).toBe("invalid CloudEvent (event 2): id must not be empty");
  });

  it("400 invalid_envelope in binary mode, naming the missing header's attribute", async () => {
    const { body } = await refusedWithoutEffect((t) =>
      post(t, "hello", "text/plain", { "ce-id": "b", "ce-source": "/s", "ce-specversion": "1.0" }),
    );
    expect(body.error).toMatchObject({ code: "invalid_envelope", attribute: "type" });
  });

  it("400 invalid_body for an empty batch", async () => {
    const { status, body } = await refusedWithoutEffect((t) => post(t, [], "application/cloudevents-batch+json"));
    expect(status).toBe(400);
    expect(body.error.code).toBe("invalid_body");
  });

  it("415 for an unsupported content type, listing the supported ones", async () => {
    const { status, body } = await refusedWithoutEffect((t) => post(t, event("x"), "text/plain"));
    expect(status).toBe(415);
    expect(body.error.code).toBe("unsupported_media_type");
    expect(body.error.message).toContain("application/cloudevents+json");
  });

  it("413 event_too_large naming the 64 KiB limit", async () => {
    const { status, body } = await refusedWithoutEffect((t) => post(t, event("big", { data: bigData(65_536) })));
    expect(status).toBe(413);
    expect(body.error).toMatchObject({ code: "event_too_large", limit: 65536, index: 0 });
    expect(body.error.message).toMatch(/^an event is at most 65536 bytes, got \d+$/);
  });

  it("413 batch_too_large naming the 100-event limit", async () => {
    const batch = Array.from({ length: 101 }, (_, i) => event(`m${i}`));
    const { status, body } = await refusedWithoutEffect((t) => post(t, batch, "application/cloudevents-batch+json"));
    expect(status).toBe(413);
    expect(body.error).toEqual({
      code: "batch_too_large",
      message: "a batch holds at most 100 events, got 101",
      limit: 100,
      count: 101,
    });
  });

  it("413 body_too_large naming the 1 MiB limit (Content-Length declared)", async () => {
    const batch = Array.from({ length: 20 }, (_, i) => event(`l${i}`, { data: bigData(60_000) }));
    const { status, body } = await refusedWithoutEffect((t) => post(t, batch, "application/cloudevents-batch+json"));
    expect(status).toBe(413);
    expect(body.error).toEqual({
      code: "body_too_large",
      message: "a publish body is at most 1048576 bytes",
      limit: 1048576,
    });
  });

  // The Worker stops reading mid-stream, so workerd logs the sender's aborted pipe; that is expected.
  it("413 body_too_large for a streamed body with no Content-Length", async () => {
    const chunk = new TextEncoder().encode(bigData(64 * 1024));
    const { status, body } = await refusedWithoutEffect((t) => {
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 20) controller.enqueue(chunk);
          else controller.close();
        },
      });
      return request(`/v1/topics/${t}/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stream,
      });
    });
    expect(status).toBe(413);
    expect(body.error).toMatchObject({ code: "body_too_large", limit: 1048576 });
  });

  it("422 schema_mismatch with valibot's issues", async () => {
    const bad = event("u", { type: "MemberJoined", data: { userId: "u1", name: "", email: "nope" } });
    const { status, body } = await refusedWithoutEffect((t) => post(t, bad));
    expect(status).toBe(422);
    expect(body.error).toEqual({
      code: "schema_mismatch",
      message: "data does not match the schema of MemberJoined: name is required",
      index: 0,
      type: "MemberJoined",
      issues: [
        { path: "name", message: "name is required" },
        { path: "email", message: "email must be a valid address" },
      ],
    });
  });
});

describe("refusals of a route", () => {
  it.each([
    ["POST", "/v1/topics/bad name/events"],
    ["POST", "/v1/topics/-leading/events"],
    ["GET", "/v1/topics/has%2Fslash/events"],
    ["GET", `/v1/topics/${"x".repeat(129)}`],
  ])("400 invalid_topic for %s %s, stating the rule, and no topic is created", async (method, path) => {
    const res = await request(path, {
      method,
      headers: { "content-type": "application/json" },
      body: method === "POST" ? JSON.stringify(event("x")) : undefined,
    });
    const { status, body } = await refusal(res);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: "invalid_topic",
      rule: "1-128 characters from A-Z a-z 0-9 . _ - :, starting with a letter or digit",
    });
    const { topics } = await (await request("/v1/topics")).json<{ topics: { topic: string }[] }>();
    for (const t of topics) expect(t.topic).toMatch(/^[A-Za-z0-9]/);
  });

  it.each(["/v1/nothing", "/v1/topics/a/b/c", "/", "/v2/topics/a/events"])("404 not_found for %s", async (path) => {
    const { status, body } = await refusal(await request(path));
    expect(status).toBe(404);
    expect(body.error).toEqual({ code: "not_found", message: `no route for GET ${path}` });
  });

  it.each([
    ["PUT", "/v1/topics/t/events", "GET, POST"],
    ["DELETE", "/v1/topics/t/events", "GET, POST"],
    ["POST", "/v1/topics/t", "GET"],
    ["POST", "/v1/schemas", "GET"],
    ["PATCH", "/v1/topics", "GET"],
  ])("405 method_not_allowed for %s %s with Allow: %s", async (method, path, allow) => {
    const { status, body, headers } = await refusal(await request(path, { method }));
    expect(status).toBe(405);
    expect(headers.get("allow")).toBe(allow);
    expect(body.error).toMatchObject({ code: "method_not_allowed", allow: allow.split(", ") });
    expect(body.error.message).toContain(`${method} is not allowed`);
  });

  it("a 405 on a topic stores nothing there", async () => {
    const topic = freshTopic("method");
    await publish(topic, event("one"));
    await request(`/v1/topics/${topic}/events`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(event("two")),
    });
    expect(await info(topic)).toMatchObject({ head: 1, eventCount: 1 });
  });
});
