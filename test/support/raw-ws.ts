import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/**
 * A WebSocket client on a bare TCP socket, for peers no library would model: one that completes
 * the upgrade and then stops reading (`pause`), so the server's frames pile up wherever the server
 * keeps them. It parses server frames itself and can send masked text frames.
 */
export class RawWebSocket {
  readonly texts: string[] = [];
  /** Payload characters of the text frames received so far. */
  chars = 0;
  closeCode: number | null = null;
  status = "";
  private buffer = Buffer.alloc(0);
  private upgraded = false;
  private readonly ended: Promise<void>;

  private constructor(private readonly socket: Socket) {
    this.ended = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  /** Opens `path` (with its query) on 127.0.0.1:port and waits for the server's answer to the upgrade. */
  static async open(port: number, path: string): Promise<RawWebSocket> {
    const socket = connect(port, "127.0.0.1");
    const ws = new RawWebSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve).once("error", reject);
    });
    socket.on("error", () => {});
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const answered = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        ws.take(chunk);
        if (ws.status) resolve();
      };
      socket.on("data", onData);
      socket.once("close", () => (ws.status ? resolve() : reject(new Error("closed before the upgrade answer"))));
    });
    await answered;
    return ws;
  }

  /** Stops reading: the kernel buffers fill, then whatever the server does with more frames. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  sendText(text: string): void {
    const payload = Buffer.from(text, "utf8");
    const mask = randomBytes(4);
    const header =
      payload.length < 126
        ? Buffer.from([0x81, 0x80 | payload.length])
        : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  /** Resolves when the TCP connection has ended (after a close frame, or a reset). */
  closed(timeoutMs: number): Promise<void> {
    return Promise.race([
      this.ended,
      new Promise<void>((_, reject) => setTimeout(() => reject(new Error("the socket did not close")), timeoutMs)),
    ]);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private take(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (!this.upgraded) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.status = this.buffer.subarray(0, this.buffer.indexOf("\r\n")).toString();
      this.buffer = this.buffer.subarray(end + 4);
      this.upgraded = true;
    }
    for (;;) {
      if (this.buffer.length < 2) return;
      const opcode = this.buffer[0] & 0x0f;
      let length = this.buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 0x1) {
        const text = payload.toString("utf8");
        this.texts.push(text);
        this.chars += text.length;
      } else if (opcode === 0x8) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.socket.end();
      }
    }
  }
}

/** The seqs of the event frames among received texts. */
export function eventSeqs(texts: readonly string[]): number[] {
  return texts.flatMap((text) => {
    const frame = JSON.parse(text) as { type: string; event?: { seq: number } };
    return frame.type === "event" && frame.event ? [frame.event.seq] : [];
  });
}
