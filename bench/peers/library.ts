// Peer fixture "@graceful/serve": this library's `serve(app, …)` from mod.ts on Node
// (@hono/node-server underneath). Set: `timeout` = DEADLINE_MS (its default is 10000 ms too) and
// the @hono/node-ws helper as `websocket`; everything else at its defaults (the adaptive lame
// duck, SSE final frames, WebSockets closed with 1001, exit 0 when nothing was cut, else 1).
// DRAIN_DELAY_MS, when set, replaces the adaptive lame duck (a row of its own in the table).

import process from "node:process";
import { serve } from "../../mod.ts";
import { app, DEADLINE_MS, HOSTNAME, nodeWebSocket, PORT, printListening } from "./_app.ts";

const drainDelay = process.env.DRAIN_DELAY_MS;
serve(app, {
  port: PORT,
  hostname: HOSTNAME,
  timeout: DEADLINE_MS,
  ...(drainDelay ? { drainDelay: Number(drainDelay) } : {}),
  websocket: nodeWebSocket,
  onListen: ({ url }) => printListening(Number(url.port)),
});
