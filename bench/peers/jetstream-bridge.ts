// Peer "JetStream + WebSocket bridge": events are published to JetStream (acked, file storage);
// this process follows the stream with an ordered consumer and sends each message to every
// connected WebSocket. Usage: jetstream-bridge <nats-url> <stream>
import { createServer } from "node:http";
import { connect, DeliverPolicy } from "nats";
import { WebSocketServer } from "ws";
import { listenOnLoopback } from "../../scripts/loopback.mjs";

const [natsUrl, stream] = process.argv.slice(2);
const nc = await connect({ servers: natsUrl });
const js = nc.jetstream();
const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.New });
const messages = await consumer.consume({ max_messages: 1000 });

const server = createServer((_req, res) => res.writeHead(426).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const decoder = new TextDecoder();

console.log(`ready ${await listenOnLoopback(server)}`);
process.on("SIGTERM", () => {
  messages.stop();
  for (const ws of wss.clients) ws.terminate();
  server.close(() => void nc.close().then(() => process.exit(0)));
});

for await (const m of messages) {
  const frame = `{"type":"event","topic":"bench","seq":${m.seq},"event":${decoder.decode(m.data)}}`;
  for (const ws of wss.clients) ws.send(frame);
}
