import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { listenOnLoopback } from "../../scripts/loopback.mjs";

/**
 * A TCP proxy in front of the local mesh whose WebSocket connections a test can cut, the way a
 * network or a server would: `closeFromServer` sends the client a WebSocket close frame (as a
 * server going away does) and ends the connection; `reset` drops both sides at once with no close
 * frame (as a lost network does). Server-to-client bytes are forwarded whole frames at a time,
 * so a cut never leaves the client half a frame; frames not yet forwarded are lost, as they are
 * when a real connection dies.
 */
export class CutProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  /** Connections accepted since start. */
  accepted = 0;
  port = 0;

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  async start(): Promise<this> {
    this.port = await listenOnLoopback(this.server);
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Open WebSocket connections (upgrade answered with 101). */
  get open(): number {
    return [...this.pairs].filter((p) => p.upgraded).length;
  }

  /** Closes every open WebSocket with a server close frame (default 1001, going away); returns how many. */
  closeFromServer(code = 1001, reason = "going away"): number {
    let n = 0;
    for (const pair of this.pairs) {
      if (!pair.upgraded) continue;
      const payload = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);
      pair.client.write(Buffer.concat([Buffer.from([0x88, payload.length]), payload]));
      pair.client.end();
      pair.upstream.destroy();
      this.pairs.delete(pair);
      n += 1;
    }
    return n;
  }

  /** Drops every connection without a close frame; returns how many. */
  reset(): number {
    const n = this.pairs.size;
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
    return n;
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted += 1;
    const upstream = tcpConnect(this.targetPort, "127.0.0.1");
    const pair: Pair = { client, upstream, upgraded: false };
    this.pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    let head: Buffer | null = Buffer.alloc(0);
    let pending: Buffer = Buffer.alloc(0);
    upstream.on("data", (chunk: Buffer) => {
      if (head !== null) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = head.subarray(0, head.indexOf("\r\n")).toString();
        client.write(head.subarray(0, end + 4));
        pending = head.subarray(end + 4);
        head = null;
        pair.upgraded = / 101 /.test(status);
        if (!pair.upgraded) {
          client.write(pending);
          upstream.removeAllListeners("data");
          upstream.pipe(client);
          return;
        }
      } else {
        pending = Buffer.concat([pending, chunk]);
      }
      const whole = wholeFramesLength(pending);
      if (whole > 0) {
        client.write(pending.subarray(0, whole));
        pending = pending.subarray(whole);
      }
    });
  }
}

interface Pair {
  client: Socket;
  upstream: Socket;
  upgraded: boolean;
}

/** The byte length of the complete WebSocket frames at the start of `buf`. */
function wholeFramesLength(buf: Buffer): number {
  let at = 0;
  for (;;) {
    if (buf.length - at < 2) return at;
    const second = buf[at + 1];
    let length = second & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buf.length - at < 4) return at;
      length = buf.readUInt16BE(at + 2);
      offset = 4;
    } else if (length === 127) {
      if (buf.length - at < 10) return at;
      length = Number(buf.readBigUInt64BE(at + 2));
      offset = 10;
    }
    if (second & 0x80) offset += 4;
    if (buf.length - at < offset + length) return at;
    at += offset + length;
  }
}
