// A Hono app served with serve(): the smallest useful setup, on Deno and on Bun from one file.
// It shows a slow request that still gets its answer after SIGTERM, the shutdown signal on the
// Hono context, the readiness/liveness probes, and a cleanup hook.
//
//   deno run --allow-net --allow-env examples/hono.ts
//   bun examples/hono.ts
//
// Then, in another terminal:
//   curl 'localhost:8000/slow?ms=3000' & sleep 0.5; kill -TERM <pid>
// The slow request is answered (with `Connection: close`), the log sums up the shutdown, and the
// process exits 0. Environment: PORT (8000; 0 = any free port), HOSTNAME (127.0.0.1).

import process from "node:process";
import { Hono } from "hono";
import { lifecycle, serve } from "../mod.ts"; // "@graceful/serve"
import { type GracefulVariables, health, shutdownSignal } from "../src/hono.ts"; // "@graceful/serve/hono"

const life = lifecycle();
const app = new Hono<{ Variables: GracefulVariables }>();
app.use(health(life)); // GET /readyz (503 once the shutdown began) and GET /livez
app.use(shutdownSignal(life)); // c.var.shutdown in every handler

app.get("/", (c) => c.text("hello\n"));

// Ignores the shutdown: the drain waits for it, up to the deadline (`timeout`).
app.get("/slow", async (c) => {
  const ms = Math.min(Number(c.req.query("ms") ?? "1000"), 60_000);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return c.text(
    `slept ${ms} ms${c.var.shutdown.aborted ? " (the server is shutting down)" : ""}\n`,
  );
});

const server = serve(app, {
  port: process.env.PORT ?? 8000,
  hostname: process.env.HOSTNAME || "127.0.0.1",
  timeout: 10_000,
  lifecycle: life,
  onListen: ({ url }) => console.log(`listening on ${url.origin}`),
});
server.onShutdown(() => console.error("cleanup hook: close your database pool here"), {
  name: "example cleanup",
});
