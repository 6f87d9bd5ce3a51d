/** One line of a latency chart: latency (ms) at each percentile. */
export interface ChartSeries {
  name: string;
  points: { percentile: number; ms: number }[];
}

const WIDTH = 720;
const HEIGHT = 380;
const MARGIN = { left: 64, right: 24, top: 40, bottom: 92 };
const COLORS = ["#d9480f", "#1971c2", "#2f9e44", "#7048e8", "#495057"];
const MAX_POSITION = 4.5;

/** HDR-style x position: 90% → 1, 99% → 2, 99.9% → 3 …; the maximum sits past 99.99%. */
function percentilePosition(p: number): number {
  if (p >= 100) return MAX_POSITION;
  return Math.min(MAX_POSITION, Math.log10(1 / (1 - p / 100)));
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * A hand-written SVG chart of latency distributions: percentile (log of 1/(1-p)) across, latency
 * in milliseconds (log scale) up, one line per target.
 */
export function latencyChartSvg(title: string, series: ChartSeries[]): string {
  const values = series.flatMap((s) => s.points.map((p) => Math.max(p.ms, 0.01)));
  const low = Math.floor(Math.log10(Math.min(...values, 1)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...values, 1))));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (p: number) => MARGIN.left + (percentilePosition(p) / MAX_POSITION) * plotW;
  const y = (ms: number) => MARGIN.top + plotH - ((Math.log10(Math.max(ms, 0.01)) - low) / (high - low)) * plotH;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let e = low; e <= high; e++) {
    const yy = y(10 ** e).toFixed(1);
    const label = 10 ** e >= 1 ? String(10 ** e) : (10 ** e).toFixed(-e);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${yy}" y2="${yy}" stroke="#dee2e6"/>`,
      `<text x="${MARGIN.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${label}</text>`,
    );
  }
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
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency (ms, log scale)</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.points.map((p, j) => `${j === 0 ? "M" : "L"}${x(p.percentile).toFixed(1)},${y(p.ms).toFixed(1)}`);
    parts.push(`<path d="${d.join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points) {
      parts.push(`<circle cx="${x(p.percentile).toFixed(1)}" cy="${y(p.ms).toFixed(1)}" r="2.5" fill="${color}"/>`);
    }
    const ly = HEIGHT - 38 + Math.floor(i / 2) * 18;
    const lx = MARGIN.left + (i % 2) * 320;
    parts.push(
      `<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
