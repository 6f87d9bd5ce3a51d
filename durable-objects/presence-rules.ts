import { PRESENCE_CHECK_MS, PRESENCE_LINGER_MS, PRESENCE_STALE_MS } from "../protocol/presence.ts";

/**
 * The decisions of presence, apart from storage: which change an enter, update or leave makes,
 * and when a connection counts as gone. A member is present while it has a connection, gone ones
 * included until their linger ends, so a reconnect inside the linger changes nothing.
 */

/** What an enter makes of the member: a join when new, an update when its data changed. */
export function changeOnEnter(
  current: { data: string } | null,
  data: string | null,
): { type: "presence.join" | "presence.update"; data: string } | null {
  if (current === null) return { type: "presence.join", data: data ?? "null" };
  if (data === null || data === current.data) return null;
  return { type: "presence.update", data };
}

/** An update changes the member only when its data differs. */
export function changeOnUpdate(current: { data: string }, data: string): boolean {
  return current.data !== data;
}

/** A member leaves with its last connection. */
export function leavesWith(connectionsLeft: number): boolean {
  return connectionsLeft <= 0;
}

/** A gone connection's linger ended: the connection is removed (and maybe its member). */
export function lingerEnded(goneAt: number, now: number, lingerMs = PRESENCE_LINGER_MS): boolean {
  return now - goneAt >= lingerMs;
}

/**
 * A socket that sent no heartbeat (`ping`, answered by the runtime) for the stale bound counts
 * as gone: its client vanished without a close the hub could see. `lastBeat` is the runtime's
 * last auto-response, or the time the socket entered when it has not pinged yet.
 */
export function heartbeatMissed(lastBeat: number, now: number, staleMs = PRESENCE_STALE_MS): boolean {
  return now - lastBeat > staleMs;
}

/**
 * When the presence object's alarm runs next: when the first lingering connection's linger ends,
 * and while any connection is held, at the next check of the hubs that hold them; null when
 * nobody is here.
 */
export function nextAlarm(
  firstGoneAt: number | null,
  anyLive: boolean,
  now: number,
  bounds = { lingerMs: PRESENCE_LINGER_MS, checkMs: PRESENCE_CHECK_MS },
): number | null {
  const due: number[] = [];
  if (firstGoneAt !== null) due.push(firstGoneAt + bounds.lingerMs);
  if (anyLive) due.push(now + bounds.checkMs);
  return due.length === 0 ? null : Math.max(now + 1, Math.min(...due));
}
