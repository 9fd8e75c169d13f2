// The same library on Node: serve() runs a Hono app through @hono/node-server (an optional peer
// dependency, loaded on Node only), and WebSockets made with @hono/node-ws are tracked when
// serve() gets what createNodeWebSocket() returned. At SIGTERM: a lame duck with
// `Connection: close`, the listener closes, /slow still gets its answer, sockets get their
// goodbye and 1001, and the process exits 0.
//
//   node examples/node.ts           (Node 22.18 or later: it runs TypeScript by type stripping)
//
// In your project: npx jsr add @graceful/serve && npm install hono @hono/node-server @hono/node-ws
// Then: curl 'localhost:8000/slow?ms=3000' & sleep 0.5; kill -TERM <pid>
// Environment: PORT (8000; 0 = any free port), HOSTNAME (127.0.0.1).

import process from "node:process";
import { Hono } from "hono";
import { createNodeWebSocket } from "@hono/node-ws";
import { lifecycle, serve } from "../mod.ts"; // "@graceful/serve"
import { health } from "../src/hono.ts"; // "@graceful/serve/hono"

const life = lifecycle();
const app = new Hono();
const nodeWebSocket = createNodeWebSocket({ app });
app.use(health(life)); // GET /readyz, GET /livez

app.get("/", (c) => c.text("hello from Node\n"));

app.get("/slow", async (c) => {
  const ms = Math.min(Number(c.req.query("ms") ?? "1000"), 60_000);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return c.text(`slept ${ms} ms\n`);
});

app.get(
  "/ws",
  nodeWebSocket.upgradeWebSocket(() => ({
    onOpen(_event, ws) {
      life.signal.addEventListener("abort", () => ws.send("server shutting down"), { once: true });
    },
    onMessage(event, ws) {
      ws.send(`echo: ${event.data}`);
    },
  })),
);

serve(app, {
  port: process.env.PORT ?? 8000,
  hostname: process.env.HOSTNAME || "127.0.0.1",
  lifecycle: life,
  websocket: nodeWebSocket, // serve() calls its injectWebSocket(server) for you
  onListen: ({ url }) => console.log(`listening on ${url.origin}`),
});
