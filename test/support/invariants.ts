/**
 * The invariants every reliability scenario and the soak check, as plain functions over what the
 * log holds (admin-api.ts reads it) and what each party saw:
 * - per topic, seqs are contiguous and each `(source, id)` is stored at most once;
 * - every event acknowledged to a publisher is in the log, at the seq its answer named;
 * - every subscriber saw each expected seq, in order, and after dedup exactly once.
 * Each check returns a report with counts; `violations` lists what broke (empty when all holds).
 */

/** An event as the log returns it. */
export interface LoggedEvent {
  seq: number;
  id: string;
  source: string;
  type: string;
  [attribute: string]: unknown;
}

/** What a publisher was told: this event is stored at `seq`. */
export interface Ack {
  topic: string;
  id: string;
  source: string;
  seq: number;
}

export interface LogReport {
  topic: string;
  head: number;
  events: number;
  /** Seqs missing between the oldest retained event and the head, or out of place. */
  gaps: number;
  /** Stored events whose `(source, id)` an earlier stored event already has. */
  duplicates: number;
  violations: string[];
}

export interface AckReport {
  acks: number;
  /** Acknowledged events not in the log at the seq they were given. */
  missing: number;
  violations: string[];
}

export interface DeliveryReport {
  name: string;
  /** Everything received, redeliveries included. */
  received: number;
  /** Distinct seqs received. */
  distinct: number;
  /** Repeats of a seq already received (at-least-once paths: retries after a lost answer). */
  redelivered: number;
  /** Expected seqs never received. */
  missing: number;
  /** Seqs received that were never expected (not in the log, or filtered out). */
  unexpected: number;
  /** First receipts of a seq lower than one already received (and not allowed to be late). */
  outOfOrder: number;
  violations: string[];
}

/**
 * Seqs contiguous from `firstSeq` (1 unless retention trimmed the start) to the head, and no
 * `(source, id)` twice.
 */
export function checkLog(topic: string, head: number, events: LoggedEvent[], firstSeq = 1): LogReport {
  const violations: string[] = [];
  let gaps = 0;
  events.forEach((event, i) => {
    if (event.seq !== firstSeq + i) {
      gaps += 1;
      if (gaps <= 5) violations.push(`${topic}: position ${i} holds seq ${event.seq}, expected ${firstSeq + i}`);
    }
  });
  const expectedCount = Math.max(0, head - firstSeq + 1);
  if (events.length !== expectedCount) {
    gaps += Math.abs(expectedCount - events.length);
    violations.push(`${topic}: ${events.length} events stored for seqs ${firstSeq}..${head}`);
  }
  const seen = new Map<string, number>();
  let duplicates = 0;
  for (const event of events) {
    const key = `${event.source}\n${event.id}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      duplicates += 1;
      if (duplicates <= 5)
        violations.push(`${topic}: (${event.source}, ${event.id}) at seq ${earlier} and ${event.seq}`);
    } else seen.set(key, event.seq);
  }
  return { topic, head, events: events.length, gaps, duplicates, violations };
}

/** Every acknowledged event is in its topic's log, with its `(source, id)`, at the seq it was given. */
export function checkAcks(acks: Ack[], logs: Map<string, LoggedEvent[]>): AckReport {
  const bySeq = new Map<string, Map<number, LoggedEvent>>();
  for (const [topic, events] of logs) bySeq.set(topic, new Map(events.map((e) => [e.seq, e])));
  const violations: string[] = [];
  let missing = 0;
  for (const ack of acks) {
    const stored = bySeq.get(ack.topic)?.get(ack.seq);
    if (stored?.id === ack.id && stored.source === ack.source) continue;
    missing += 1;
    if (missing <= 5) {
      violations.push(
        `${ack.topic}: acknowledged (${ack.source}, ${ack.id}) at seq ${ack.seq}, log has ${stored ? `(${stored.source}, ${stored.id})` : "nothing"}`,
      );
    }
  }
  return { acks: acks.length, missing, violations };
}

export interface DeliveryExpectation {
  /** The seqs this subscriber must end up with, in order. */
  expected: readonly number[];
  /** False for paths that promise no order (Cloudflare Queues). */
  ordered?: boolean;
  /** Seqs that may arrive late: dead letters, which a redrive sends after later events. */
  lateAllowed?: ReadonlySet<number>;
}

/**
 * What one subscriber received, checked against what it should have: after dedup by seq, each
 * expected seq exactly once and nothing else, and (on ordered paths) first receipts in seq order.
 */
export function checkDeliveries(
  name: string,
  received: readonly number[],
  expectation: DeliveryExpectation,
): DeliveryReport {
  const ordered = expectation.ordered ?? true;
  const seen = new Set<number>();
  let redelivered = 0;
  let outOfOrder = 0;
  let highest = 0;
  const violations: string[] = [];
  for (const seq of received) {
    if (seen.has(seq)) {
      redelivered += 1;
      continue;
    }
    seen.add(seq);
    if (ordered && seq < highest && !expectation.lateAllowed?.has(seq)) {
      outOfOrder += 1;
      if (outOfOrder <= 5) violations.push(`${name}: seq ${seq} arrived after seq ${highest}`);
    }
    highest = Math.max(highest, seq);
  }
  const expected = new Set(expectation.expected);
  const missing = [...expected].filter((seq) => !seen.has(seq));
  const unexpected = [...seen].filter((seq) => !expected.has(seq));
  if (missing.length > 0) violations.push(`${name}: ${missing.length} expected seqs never arrived: ${sample(missing)}`);
  if (unexpected.length > 0) {
    violations.push(`${name}: ${unexpected.length} seqs arrived that were not expected: ${sample(unexpected)}`);
  }
  return {
    name,
    received: received.length,
    distinct: seen.size,
    redelivered,
    missing: missing.length,
    unexpected: unexpected.length,
    outOfOrder,
    violations,
  };
}

/** Seqs 1..n, the usual expectation of an unfiltered subscriber from the start. */
export function seqsUpTo(head: number): number[] {
  return Array.from({ length: head }, (_, i) => i + 1);
}

/** Every violation of a set of reports, for one `expect(...).toEqual([])`. */
export function violationsOf(...reports: { violations: string[] }[]): string[] {
  return reports.flatMap((r) => r.violations);
}

function sample(seqs: number[]): string {
  const sorted = [...seqs].sort((a, b) => a - b);
  return sorted.length > 10 ? `${sorted.slice(0, 10).join(", ")}, …` : sorted.join(", ");
}
