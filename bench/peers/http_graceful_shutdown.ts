// Peer fixture "http-graceful-shutdown" 4.0: @hono/node-server, and
// `gracefulShutdown(server, { signals, timeout })` as its README shows. Set: `signals: "SIGTERM"`,
// `timeout` = DEADLINE_MS (its default is 30000 ms). Left at its defaults: `forceExit: true`
// (process.exit(0), or 1 when the shutdown failed or timed out).

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import gracefulShutdown from "http-graceful-shutdown";
import { app, DEADLINE_MS, HOSTNAME, nodeWebSocket, PORT, printListening } from "./_app.ts";

const server = serve(
  { fetch: app.fetch, port: PORT, hostname: HOSTNAME },
  (info: AddressInfo) => printListening(info.port),
);
nodeWebSocket.injectWebSocket(server);

gracefulShutdown(server as Parameters<typeof gracefulShutdown>[0], {
  signals: "SIGTERM",
  timeout: DEADLINE_MS,
});
