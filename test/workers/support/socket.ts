import { expect } from "vitest";
import {
  parseServerFrame,
  type ServerFrame,
  type SubscribeFrame,
  subscribeFrameText,
} from "../../../protocol/frames.ts";
import { meshFetch } from "./mesh-fetch.ts";

export interface Socket {
  ws: WebSocket;
  frames: ServerFrame[];
  texts: string[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves once `predicate` holds for the frames received so far. */
  until(predicate: (frames: ServerFrame[]) => boolean, label?: string): Promise<void>;
}

/** Accepts the client end of a 101 response and records every frame it receives. */
export function collect(res: Response): Socket {
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error("no webSocket on the 101 response");
  const frames: ServerFrame[] = [];
  const texts: string[] = [];
  const waiters = new Set<() => void>();
  ws.addEventListener("message", (e) => {
    const text = String(e.data);
    texts.push(text);
    const frame = parseServerFrame(text);
    if (frame) frames.push(frame);
    for (const check of waiters) check();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason }));
  });
  ws.accept();
  const until = (predicate: (frames: ServerFrame[]) => boolean, label = "frames") =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${label}; got ${JSON.stringify(frames.map(summary))}`));
      }, 10_000);
      const check = () => {
        if (!predicate(frames)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  return { ws, frames, texts, closed, until };
}

export function summary(frame: ServerFrame): string | number {
  return frame.type === "event" ? frame.event.seq : frame.type;
}

/** One topic's frames on a socket that follows several, events as their seq. */
export function ofTopic(frames: ServerFrame[], topic: string): (string | number)[] {
  return frames.flatMap((f): (string | number)[] => {
    if (!("topic" in f) || f.topic !== topic) return [];
    if (f.type === "event") return [f.event.seq];
    if (f.type === "events") return f.events.map((e) => e.seq);
    return [f.type];
  });
}

export const seqsOf = (frames: ServerFrame[], topic: string) =>
  ofTopic(frames, topic).filter((x): x is number => typeof x === "number");

export const caughtUp = (topic: string) => (frames: ServerFrame[]) =>
  frames.some((f) => f.type === "caught-up" && f.topic === topic);

export interface TopicsSocket extends Socket {
  subscribe(topic: string, start?: Omit<SubscribeFrame, "type" | "topic">): void;
}

/** A `/v1/ws` socket through the Worker with the all-scope test key; `subscribe` sends a subscribe frame. */
export async function openTopicsSocket(): Promise<TopicsSocket> {
  const socket = collect(await meshFetch("http://mesh/v1/ws", { headers: { upgrade: "websocket" } }));
  return { ...socket, subscribe: (topic, start = {}) => socket.ws.send(subscribeFrameText({ topic, ...start })) };
}
