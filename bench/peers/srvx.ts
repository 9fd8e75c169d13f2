// Peer fixture "srvx" 1.0: srvx's own `serve()` on Node with the Hono app's fetch, and its
// `gracefulShutdown` option. Set: `gracefulShutdown: { gracefulTimeout }` = DEADLINE_MS in whole
// seconds (its default is 5 s; given explicitly because srvx turns the option off when CI or TEST
// is set), `silent: true` (no countdown on stderr). srvx closes the server on SIGTERM and, at the
// timeout, closes every connection; it never exits the process: Node exits once nothing is left.
// WebSockets: @hono/node-ws injected into srvx's node:http server, as on the other fixtures.

import type { Server } from "node:http";
import { serve } from "srvx";
import { app, DEADLINE_MS, HOSTNAME, nodeWebSocket, PORT, printListening } from "./_app.ts";

if (DEADLINE_MS % 1000 !== 0) {
  throw new RangeError(`srvx counts its timeout in seconds: DEADLINE_MS must be whole seconds`);
}
const server = serve({
  fetch: app.fetch,
  port: PORT,
  hostname: HOSTNAME,
  gracefulShutdown: { gracefulTimeout: DEADLINE_MS / 1000 },
  silent: true,
});
await server.ready();
const nodeServer = server.node!.server as Server;
nodeWebSocket.injectWebSocket(nodeServer);
const address = nodeServer.address();
printListening(typeof address === "object" && address !== null ? address.port : PORT);
