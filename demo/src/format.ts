/** Wall-clock time with milliseconds, so events a few ms apart read in order. */
export function clockTime(iso: string | number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "in 4 s", "12 s ago", "3 min ago": for retry times and failures. */
export function relativeTime(iso: string | null, now = Date.now()): string {
  if (!iso) return "—";
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff);
  const text =
    abs < 1000
      ? "now"
      : abs < 60_000
        ? `${Math.round(abs / 1000)} s`
        : abs < 3_600_000
          ? `${Math.round(abs / 60_000)} min`
          : `${Math.round(abs / 3_600_000)} h`;
  if (text === "now") return "now";
  return diff > 0 ? `in ${text}` : `${text} ago`;
}

/** The tail of a long id, enough to tell events apart on screen. */
export function shortId(id: string, keep = 14): string {
  return id.length <= keep ? id : `…${id.slice(-keep)}`;
}

/** "1 topic", "3 topics". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
