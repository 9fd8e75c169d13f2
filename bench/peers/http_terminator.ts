// Peer fixture "http-terminator" 3.2: @hono/node-server, and on SIGTERM
// `createHttpTerminator({ server }).terminate()` as its README shows. Set:
// `gracefulTerminationTimeout` = DEADLINE_MS (its default is 1000 ms in code, 5000 in the README;
// the same deadline as every peer). terminate() resolves once the server closed; the fixture then
// exits 0, as a service would (a SIGTERM listener replaces Node's default exit, and the README
// shows no exit). terminate() does not say whether it had to destroy sockets, so the code is 0.

import type { AddressInfo } from "node:net";
import process from "node:process";
import { serve } from "@hono/node-server";
import { createHttpTerminator } from "http-terminator";
import { app, DEADLINE_MS, HOSTNAME, nodeWebSocket, PORT, printListening } from "./_app.ts";

const server = serve(
  { fetch: app.fetch, port: PORT, hostname: HOSTNAME },
  (info: AddressInfo) => printListening(info.port),
);
nodeWebSocket.injectWebSocket(server);

const terminator = createHttpTerminator({
  server: server as Parameters<typeof createHttpTerminator>[0]["server"],
  gracefulTerminationTimeout: DEADLINE_MS,
});
process.on("SIGTERM", async () => {
  await terminator.terminate();
  process.exit(0);
});
