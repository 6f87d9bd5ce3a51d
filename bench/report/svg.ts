/** One line of a latency chart: latency (ms) at each percentile. */
export interface ChartSeries {
  name: string;
  points: { percentile: number; ms: number }[];
}

const WIDTH = 720;
const HEIGHT = 380;
const MARGIN = { left: 64, right: 24, top: 40, bottom: 92 };
const COLORS = ["#d9480f", "#1971c2", "#2f9e44", "#7048e8", "#e67700", "#0c8599", "#495057"];
const MAX_POSITION = 4.5;

/** HDR-style x position: 90% → 1, 99% → 2, 99.9% → 3 …; the maximum sits past 99.99%. */
function percentilePosition(p: number): number {
  if (p >= 100) return MAX_POSITION;
  return Math.min(MAX_POSITION, Math.log10(1 / (1 - p / 100)));
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Legend rows below the plot: two entries a row, 18 px each. */
const LEGEND_ROW = 18;

/**
 * The chart's frame: size, background and title; the caller closes it with `</svg>`. The plot
 * keeps its size; past two legend rows (`series` > 4) the chart grows downward to fit them.
 */
function openChart(title: string, series: number): string[] {
  const height = HEIGHT + LEGEND_ROW * Math.max(0, Math.ceil(series / 2) - 2);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

/** A log-scale y axis over whole powers of ten covering `values`: its mapping and its grid lines. */
function logYAxis(values: number[], floor: number, label: string): { y: (v: number) => number; parts: string[] } {
  const low = Math.floor(Math.log10(Math.max(Math.min(...values, 1), floor)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...values, 1))));
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (v: number) => MARGIN.top + plotH - ((Math.log10(Math.max(v, floor)) - low) / (high - low)) * plotH;
  const parts: string[] = [];
  for (let e = low; e <= high; e++) {
    const yy = y(10 ** e).toFixed(1);
    const tick = 10 ** e >= 1 ? (10 ** e).toLocaleString("en-US") : (10 ** e).toFixed(-e);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${yy}" y2="${yy}" stroke="#dee2e6"/>`,
      `<text x="${MARGIN.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${tick}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text>`,
  );
  return { y, parts };
}

/** One line with its points and its legend entry, the `i`-th of the chart. */
function seriesLine(name: string, xy: [number, number][], i: number): string[] {
  const color = COLORS[i % COLORS.length];
  const d = xy.map(([px, py], j) => `${j === 0 ? "M" : "L"}${px.toFixed(1)},${py.toFixed(1)}`);
  const ly = HEIGHT - 38 + Math.floor(i / 2) * LEGEND_ROW;
  const lx = MARGIN.left + (i % 2) * 320;
  return [
    `<path d="${d.join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`,
    ...xy.map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="2.5" fill="${color}"/>`),
    `<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
    `<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(name)}</text>`,
  ];
}

/**
 * A hand-written SVG chart of latency distributions: percentile (log of 1/(1-p)) across, latency
 * in milliseconds (log scale) up, one line per target.
 */
export function latencyChartSvg(title: string, series: ChartSeries[]): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (p: number) => MARGIN.left + (percentilePosition(p) / MAX_POSITION) * plotW;
  const axis = logYAxis(
    series.flatMap((s) => s.points.map((p) => p.ms)),
    0.01,
    "latency (ms, log scale)",
  );
  const parts = [...openChart(title, series.length), ...axis.parts];
  const ticks: [number, string][] = [
    [0, "0%"],
    [50, "50%"],
    [90, "90%"],
    [99, "99%"],
    [99.9, "99.9%"],
    [99.99, "99.99%"],
    [100, "max"],
  ];
  for (const [p, label] of ticks) {
    const xx = x(p).toFixed(1);
    parts.push(
      `<line x1="${xx}" x2="${xx}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#dee2e6"/>`,
      `<text x="${xx}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${label}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 34}" text-anchor="middle">percentile</text>`,
  );
  series.forEach((s, i) => {
    parts.push(
      ...seriesLine(
        s.name,
        s.points.map((p) => [x(p.percentile), axis.y(p.ms)]),
        i,
      ),
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** One line of a line chart: y at each x. */
export interface LineSeries {
  name: string;
  points: { x: number; y: number }[];
}

/**
 * A hand-written SVG line chart: x linear from 0 with a tick at every x any series has, y on a log
 * scale (figures that differ by orders of magnitude stay readable), one line per series.
 */
export function lineChartSvg(title: string, xLabel: string, yLabel: string, series: LineSeries[]): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const maxX = Math.max(...xs, 1);
  const x = (v: number) => MARGIN.left + (v / maxX) * plotW;
  const axis = logYAxis(
    series.flatMap((s) => s.points.map((p) => p.y)),
    0.1,
    yLabel,
  );
  const parts = [...openChart(title, series.length), ...axis.parts];
  for (const v of xs) {
    const xx = x(v).toFixed(1);
    parts.push(
      `<line x1="${xx}" x2="${xx}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#dee2e6"/>`,
      `<text x="${xx}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${v.toLocaleString("en-US")}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 34}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
  );
  series.forEach((s, i) => {
    parts.push(
      ...seriesLine(
        s.name,
        s.points.map((p) => [x(p.x), axis.y(p.y)]),
        i,
      ),
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
