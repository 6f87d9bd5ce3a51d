import { type CpuProfile, SAMPLING_INTERVAL_US } from "./cpu-profile.ts";

/** CPU time of one profile by side, in microseconds; `unattributed` had no side's frame on its stack. */
export interface Attribution<S extends string> {
  us: Record<S | "unattributed", number>;
  /** All sampled CPU time (the sum of `us`). */
  sampledUs: number;
}

/**
 * The most one sample weighs. workerd's isolate is only sampled while it holds the thread (native
 * work outside it, such as writing frames to sockets, leaves gaps), so a long delta spans time
 * the isolate did not run; spacing stretches past the interval asked on a loaded machine.
 */
const MAX_SAMPLE_US = 4 * SAMPLING_INTERVAL_US;

/** Each sample's CPU time, µs, in sample order: the time since the previous sample, capped; `(idle)` weighs nothing. */
function sampleWeights(profile: CpuProfile): number[] {
  const cap = MAX_SAMPLE_US;
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  return profile.samples.map((id, i) => (idle.has(id) ? 0 : Math.min(Math.max(profile.timeDeltas[i] ?? 0, 0), cap)));
}

/** All CPU time a profile sampled, µs. */
export function sampledCpuUs(profile: CpuProfile): number {
  return sampleWeights(profile).reduce((a, b) => a + b, 0);
}

/**
 * Attributes each sample of `profile` to one of `sides`: from the sample's frame up the parent
 * chain to the first frame of `bundleName` whose line `sideOfLine` names a side. Native frames
 * (`exec`, `send`, `(garbage collector)` inside a call) and shared modules are passed over, so they
 * count for the JS caller that ran them; a stack with no side frame at all (`(program)`, GC outside
 * any call, a promise reaction of shared code) is unattributed.
 */
export function attributeProfile<S extends string>(
  profile: CpuProfile,
  bundleName: string,
  sides: readonly S[],
  sideOfLine: (line: number) => S | null,
): Attribution<S> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const memo = new Map<number, S | "unattributed">();
  const sideOf = (id: number): S | "unattributed" => {
    const known = memo.get(id);
    if (known) return known;
    const frame = byId.get(id)?.callFrame;
    const own = frame?.url.endsWith(bundleName) ? sideOfLine(frame.lineNumber) : null;
    const up = parent.get(id);
    const side = own ?? (up === undefined ? "unattributed" : sideOf(up));
    memo.set(id, side);
    return side;
  };
  const us = Object.fromEntries([...sides, "unattributed"].map((side) => [side, 0])) as Record<
    S | "unattributed",
    number
  >;
  const weights = sampleWeights(profile);
  profile.samples.forEach((id, i) => {
    us[sideOf(id)] += weights[i];
  });
  return { us, sampledUs: weights.reduce((a, b) => a + b, 0) };
}
