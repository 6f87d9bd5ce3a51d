// Peer "plain Node ws broadcaster": the floor for live delivery. POST /publish with an event's JSON
// is numbered and sent to every connected WebSocket; nothing is validated or stored.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { listenOnLoopback } from "../../scripts/loopback.mjs";

const server = createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false });
let seq = 0;

server.on("request", (req, res) => {
  if (req.method !== "POST") {
    res.writeHead(405).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    seq += 1;
    // Serialized once per publish, like the mesh's frames.
    const frame = `{"type":"event","topic":"bench","seq":${seq},"event":${Buffer.concat(chunks).toString("utf8")}}`;
    for (const ws of wss.clients) ws.send(frame);
    res.writeHead(201, { "content-type": "application/json" }).end(`{"seq":${seq}}`);
  });
});

console.log(`ready ${await listenOnLoopback(server)}`);
process.on("SIGTERM", () => {
  for (const ws of wss.clients) ws.terminate();
  server.close(() => process.exit(0));
});
