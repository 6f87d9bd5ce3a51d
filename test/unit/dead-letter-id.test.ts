import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { DeadLetterListQuerySchema, RedriveBodySchema } from "../../protocol/dead-letter-api.ts";
import { type DeadLetterRef, formatDeadLetterId, parseDeadLetterId } from "../../protocol/dead-letter-id.ts";

describe("dead-letter ids", () => {
  it("read back what they were made from, topics with ':' included", () => {
    const refs: DeadLetterRef[] = [
      { kind: "queue", consumer: "welcome-mailer", n: 7 },
      { kind: "subscription", topic: "orders", subscription: "billing", seq: 12 },
      { kind: "subscription", topic: "tenant:42:orders", subscription: "bill.v2", seq: 1 },
    ];
    for (const ref of refs) expect(parseDeadLetterId(formatDeadLetterId(ref))).toEqual(ref);
    expect(formatDeadLetterId(refs[2])).toBe("sub:tenant:42:orders:bill.v2:1");
  });

  it("refuse anything that cannot name a dead letter", () => {
    for (const id of [
      "",
      "nope",
      "queue:mailer",
      "queue:mailer:0",
      "queue:mailer:-1",
      "queue:mailer:1.5",
      "queue:Mailer:1",
      "queue:a:b:1",
      "sub:orders:1",
      "sub::billing:1",
      "sub:orders:bad name:1",
      "sub:bad topic:billing:1",
      "dlq:orders:billing:1",
    ]) {
      expect(parseDeadLetterId(id), id).toBeNull();
    }
  });
});

describe("dead-letter API shapes", () => {
  it("list query: filters combine, but subscription and consumer select different kinds", () => {
    expect(v.safeParse(DeadLetterListQuerySchema, { topic: "orders", consumer: "mailer", limit: "5" }).output).toEqual({
      topic: "orders",
      consumer: "mailer",
      limit: 5,
    });
    for (const query of [
      { subscription: "s", consumer: "c" },
      { subscription: "s", kind: "queue" },
      { consumer: "c", kind: "subscription" },
      { kind: "other" },
      { limit: "0" },
    ]) {
      expect(v.safeParse(DeadLetterListQuerySchema, query).success, JSON.stringify(query)).toBe(false);
    }
  });

  it("redrive body: 1 to 100 ids", () => {
    expect(v.safeParse(RedriveBodySchema, { ids: ["queue:a:1"] }).success).toBe(true);
    expect(v.safeParse(RedriveBodySchema, { ids: [] }).success).toBe(false);
    expect(v.safeParse(RedriveBodySchema, { ids: Array(101).fill("queue:a:1") }).success).toBe(false);
    expect(v.safeParse(RedriveBodySchema, { ids: [1] }).success).toBe(false);
  });
});
