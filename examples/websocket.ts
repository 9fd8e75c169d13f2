// WebSockets with Hono on Deno and Bun: an echo socket that says goodbye at shutdown. Open sockets
// count as in flight; at SIGTERM the handler sees the signal and sends its goodbye, `streamGrace`
// (250 ms) later the library closes every socket still open with 1001 "server shutting down",
// waits for the closing handshake, and the process exits 0.
//
//   deno run --allow-net --allow-env examples/websocket.ts
//   bun examples/websocket.ts
//
// Then, e.g. with websocat: websocat ws://localhost:8000/ws  (type a line; kill -TERM <pid>)
// On Node, see examples/node.ts. Environment: PORT (8000; 0 = any free port), HOSTNAME (127.0.0.1).

import process from "node:process";
import { Hono } from "hono";
import type { UpgradeWebSocket } from "hono/ws";
import { lifecycle, serve } from "../mod.ts"; // "@graceful/serve"

// Hono's helper for the runtime this runs on. In your app, import the one you need:
// `import { upgradeWebSocket } from "hono/deno"`, or `{ upgradeWebSocket, websocket }` from "hono/bun".
const bun = "Bun" in globalThis ? await import("hono/bun") : undefined;
const upgradeWebSocket = (bun ?? await import("hono/deno")).upgradeWebSocket as UpgradeWebSocket;

const life = lifecycle();
const app = new Hono();
app.get("/", (c) => c.text(`${life.state}; connect to /ws\n`));
app.get(
  "/ws",
  upgradeWebSocket(() => {
    let goodbye = (): void => {};
    return {
      onOpen(_event, ws) {
        goodbye = () => ws.send("server shutting down, please reconnect");
        life.signal.addEventListener("abort", goodbye, { once: true });
      },
      onMessage(event, ws) {
        ws.send(`echo: ${typeof event.data === "string" ? event.data : "(binary)"}`);
      },
      onClose() {
        life.signal.removeEventListener("abort", goodbye);
      },
    };
  }),
);

serve(app, {
  port: process.env.PORT ?? 8000,
  hostname: process.env.HOSTNAME || "127.0.0.1",
  lifecycle: life,
  // Bun only: its websocket handlers, wrapped by the library to track every socket. Deno needs
  // nothing: sockets from Deno.upgradeWebSocket are tracked as they are.
  ...(bun ? { websocket: bun.websocket } : {}),
  onListen: ({ url }) => console.log(`listening on ${url.origin}`),
});
