import { median, round } from "./stats.ts";

export type Section = "throughput" | "latency" | "fanout" | "catchup" | "memory" | "delivery" | "hubs" | "presence";

/** One line of the comparison: the mesh and one peer on the same measure, from the same run. */
export interface Row {
  section: Section;
  measure: string;
  unit: string;
  better: "higher" | "lower";
  peer: string;
  /** Medians of the repetitions. */
  mesh: number;
  peerValue: number;
  /** mesh / peer: above 1 is better for "higher" measures, below 1 for "lower" ones. */
  ratio: number;
  meshRuns: number[];
  peerRuns: number[];
}

export function makeRow(
  base: Pick<Row, "section" | "measure" | "unit" | "better">,
  meshRuns: number[],
  peer: string,
  peerRuns: number[],
): Row {
  const mesh = median(meshRuns);
  const peerValue = median(peerRuns);
  return {
    ...base,
    peer,
    mesh: round(mesh),
    peerValue: round(peerValue),
    ratio: round(peerValue === 0 ? Number.NaN : mesh / peerValue),
    meshRuns: meshRuns.map((v) => round(v)),
    peerRuns: peerRuns.map((v) => round(v)),
  };
}

/** How much better or worse the mesh is on a row, as one factor where above 1 means the mesh wins. */
export function advantage(row: Row): number {
  return row.better === "higher" ? row.ratio : 1 / row.ratio;
}
