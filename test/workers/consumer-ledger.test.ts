import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  type ConsumerLedger,
  consumerLedger,
  LEASE_MS,
  LEDGER_RETENTION_MS,
} from "../../durable-objects/consumer-ledger.ts";

const ledgerFor = (name: string) => consumerLedger(env, name);

async function sql(stub: DurableObjectStub<ConsumerLedger>, query: string, ...args: SqlStorageValue[]) {
  return runInDurableObject(stub, (_, state) => state.storage.sql.exec(query, ...args).toArray());
}

describe("the consumer ledger (idempotency record per consumer)", () => {
  it("lets one run hold an event, then acknowledges every later delivery without running it", async () => {
    const ledger = ledgerFor("ledger-basic");
    const first = await ledger.claim("/src", "e1");
    expect(first.ok).toBe(true);
    const second = await ledger.claim("/src", "e1");
    expect(second).toMatchObject({ ok: false, code: "busy" });
    if (!second.ok && second.code === "busy") {
      expect(second.retryInMs).toBeGreaterThan(0);
      expect(second.retryInMs).toBeLessThanOrEqual(LEASE_MS);
    }
    await ledger.complete("/src", "e1");
    expect(await ledger.claim("/src", "e1")).toEqual({ ok: false, code: "done" });
    // The key is (source, id): the same id from another source is another event.
    expect((await ledger.claim("/other", "e1")).ok).toBe(true);
  });

  it("counts failures with the last error and frees the event for the next delivery", async () => {
    const ledger = ledgerFor("ledger-fail");
    const a = await ledger.claim("/src", "e1");
    if (!a.ok) throw new Error("expected a claim");
    expect(await ledger.fail("/src", "e1", a.token, "Error: first")).toBe(1);
    const b = await ledger.claim("/src", "e1");
    if (!b.ok) throw new Error("expected a claim after a failure");
    expect(await ledger.fail("/src", "e1", b.token, "Error: second")).toBe(2);
    const status = await ledger.status("/src", "e1");
    expect(status).toMatchObject({ state: "failed", attempts: 2, lastError: "Error: second" });
    expect(String(status?.firstFailureAt) <= String(status?.lastFailureAt)).toBe(true);
    expect(await ledger.status("/src", "never-seen")).toBeNull();
  });

  it("gives an event whose run died (its lease expired) to the next delivery, and ignores the late run's failure", async () => {
    const ledger = ledgerFor("ledger-lease");
    const dead = await ledger.claim("/src", "e1");
    if (!dead.ok) throw new Error("expected a claim");
    await sql(ledger, "UPDATE ledger SET lease_until = ? WHERE id = 'e1'", Date.now() - 1);
    const next = await ledger.claim("/src", "e1");
    if (!next.ok) throw new Error("an expired lease must be claimable");
    expect(next.token).not.toBe(dead.token);
    // The old run reports its failure late: counted, but the new holder keeps its lease.
    await ledger.fail("/src", "e1", dead.token, "Error: late");
    expect(await ledger.status("/src", "e1")).toMatchObject({ state: "running", attempts: 1 });
    expect(await ledger.claim("/src", "e1")).toMatchObject({ ok: false, code: "busy" });
  });

  it("forgets records after the retention time, on its alarm", async () => {
    const ledger = ledgerFor("ledger-prune");
    await ledger.claim("/src", "old");
    await ledger.complete("/src", "old");
    await ledger.claim("/src", "recent");
    await ledger.complete("/src", "recent");
    const alarm = await runInDurableObject(ledger, (_, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    await sql(ledger, "UPDATE ledger SET updated_at = ? WHERE id = 'old'", Date.now() - LEDGER_RETENTION_MS - 1000);

    expect(await runDurableObjectAlarm(ledger)).toBe(true);
    expect(await ledger.status("/src", "old")).toBeNull();
    expect(await ledger.status("/src", "recent")).toMatchObject({ state: "done" });
    // Re-armed for the record that is left.
    expect(await runInDurableObject(ledger, (_, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
  });
});
