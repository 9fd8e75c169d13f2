// Peer fixture "plain": @hono/node-server with `server.close()` on SIGTERM, then exit, exactly
// the snippet of Hono's Node.js docs. No deadline: close() waits for every request and for every
// connection it does not close itself (Node >= 19 closes idle keep-alive connections).

import type { AddressInfo } from "node:net";
import process from "node:process";
import { serve } from "@hono/node-server";
import { app, HOSTNAME, nodeWebSocket, PORT, printListening } from "./_app.ts";

const server = serve(
  { fetch: app.fetch, port: PORT, hostname: HOSTNAME },
  (info: AddressInfo) => printListening(info.port),
);
nodeWebSocket.injectWebSocket(server);

process.on("SIGTERM", () => {
  server.close((err) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    process.exit(0);
  });
});
