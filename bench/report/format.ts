import { advantage, type Row } from "../lib/rows.ts";

export const SECTION_TITLES: Record<Row["section"], string> = {
  throughput: "1. Publish throughput",
  latency: "2. End-to-end latency (publish → WebSocket receive)",
  fanout: "3. Fan-out",
  catchup: "4. Catch-up",
  memory: "5. Memory of the local runtime",
  delivery: "6. Webhook delivery",
  hubs: "7. One topic's audience on hubs (CPU per object)",
  presence: "8. Presence: join/leave rate and a large room",
};

/** A figure with a sensible number of digits and thousands separators. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** The ratio, with which side it favours. */
export function formatRatio(row: Row): string {
  if (!Number.isFinite(row.ratio)) return "n/a";
  const a = advantage(row);
  const verdict = a >= 0.95 && a <= 1.05 ? "par" : a > 1 ? "mesh ahead" : "mesh behind";
  return `${row.ratio.toFixed(row.ratio >= 10 ? 1 : 2)} (${verdict})`;
}
