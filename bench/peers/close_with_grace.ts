// Peer fixture "close-with-grace" 2.5: @hono/node-server, and
// `closeWithGrace({ delay }, async () => server.close …)` as its README shows. Set: `delay` =
// DEADLINE_MS (its default is 10000 ms too). The callback closes the server and resolves once
// close() called back; close-with-grace exits 0 then, or 1 when the delay ran out first.

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import closeWithGrace from "close-with-grace";
import { app, DEADLINE_MS, HOSTNAME, nodeWebSocket, PORT, printListening } from "./_app.ts";

const server = serve(
  { fetch: app.fetch, port: PORT, hostname: HOSTNAME },
  (info: AddressInfo) => printListening(info.port),
);
nodeWebSocket.injectWebSocket(server);

closeWithGrace({ delay: DEADLINE_MS }, async () => {
  await new Promise<void>((resolve, reject) =>
    server.close((err) => (err ? reject(err) : resolve()))
  );
});
