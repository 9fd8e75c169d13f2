// Peer fixture "terminus" 4.12: @hono/node-server, and
// `createTerminus(server, { signals, onSignal, timeout })` as its README shows. Set: `signals:
// ["SIGTERM"]`, `timeout` = DEADLINE_MS (its default is 1000 ms), an empty `onSignal` (nothing
// to clean up here). Left at its defaults: after the shutdown terminus sends the signal again to
// its own process (no `useExit0`), so the process ends killed by SIGTERM (143 for a shell).

import type { AddressInfo } from "node:net";
import { createTerminus } from "@godaddy/terminus";
import { serve } from "@hono/node-server";
import { app, DEADLINE_MS, HOSTNAME, nodeWebSocket, PORT, printListening } from "./_app.ts";

const server = serve(
  { fetch: app.fetch, port: PORT, hostname: HOSTNAME },
  (info: AddressInfo) => printListening(info.port),
);
nodeWebSocket.injectWebSocket(server);

createTerminus(server as Parameters<typeof createTerminus>[0], {
  signals: ["SIGTERM"],
  timeout: DEADLINE_MS,
  onSignal: async () => {},
});
