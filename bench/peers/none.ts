// Peer fixture "none": @hono/node-server and no SIGTERM listener at all, so Node's default
// applies and the signal kills the process at once. The baseline every scenario must fail: it
// shows that each scenario of bench/peers/run.ts can fail.

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { app, HOSTNAME, nodeWebSocket, PORT, printListening } from "./_app.ts";

const server = serve(
  { fetch: app.fetch, port: PORT, hostname: HOSTNAME },
  (info: AddressInfo) => printListening(info.port),
);
nodeWebSocket.injectWebSocket(server);
