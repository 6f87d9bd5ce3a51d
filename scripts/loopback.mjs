// The servers of the tests, the bench and the scripts listen on 127.0.0.1 only, on a port the OS picks.
import { createServer } from "node:net";

/**
 * Starts `server` listening on a free port of 127.0.0.1; resolves with that port.
 * @param {import("node:net").Server} server
 * @returns {Promise<number>}
 */
export function listenOnLoopback(server) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

/**
 * A port nothing listens on right now, for a program that must be told its port (wrangler dev,
 * nats-server, redis-server); the tiny race before it takes the port is acceptable here.
 * @returns {Promise<number>}
 */
export async function freePort() {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
