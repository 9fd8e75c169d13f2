// The demo's routes as a default export that the runtime serves itself, with the same shutdown as
// serve(): `deno serve` (one worker or --parallel: every worker drains, the process exits once all
// have finished) and Bun's default-export server.
//
//   deno serve -A --host 127.0.0.1 --port 8000 examples/default_export.ts
//   deno serve -A --host 127.0.0.1 --port 8000 --parallel examples/default_export.ts
//   PORT=8000 bun run examples/default_export.ts
//
// Then, in another terminal: curl localhost:8000/slow?ms=3000 & kill -TERM <pid>
// The slow request still gets its answer, and the process exits 0 right after it.
//
// Environment: SHUTDOWN_TIMEOUT_MS (10000), DRAIN_DELAY_MS (the library's adaptive default); on
// Bun also PORT (8000; 0 = any free port) and HOSTNAME (127.0.0.1). `deno serve` takes the address
// from --host and --port. SHUTDOWN_TOKEN: POST /shutdown then needs `Authorization: Bearer
// <token>`; unset, it answers loopback clients only.

import process from "node:process";
import { type Context, Hono } from "hono";
import type { ConnInfo } from "hono/conninfo";
import { streamSSE } from "hono/streaming";
import type { UpgradeWebSocket } from "hono/ws";
import { type GracefulExport, gracefulExport, lifecycle, readiness } from "../mod.ts";
import { type GracefulVariables, health, shutdownSignal } from "../src/hono.ts"; // "@graceful/serve/hono"

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`example: ${name} must be a number >= 0, received ${JSON.stringify(raw)}`);
  }
  return value;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Hono's WebSocket helper for the runtime we run on; on Bun its `websocket` handlers are exported.
const bunWebSocket = "Bun" in globalThis ? await import("hono/bun") : undefined;
const upgradeWebSocket = (bunWebSocket ?? await import("hono/deno"))
  .upgradeWebSocket as UpgradeWebSocket;

const life = lifecycle();
const app = new Hono<{ Variables: GracefulVariables }>();
app.use(health(life)); // GET /readyz and /livez
app.use("/sse", shutdownSignal(life));

app.get("/", (c) => c.text("ok"));

// Ignores the shutdown: the drain waits for it (up to the deadline).
app.get("/slow", async (c) => {
  const ms = Number(c.req.query("ms") ?? "1000");
  await sleep(ms);
  return c.text(`slept ${ms} ms`);
});

// Endless SSE that cooperates: on the shutdown signal it sends a last event and ends.
app.get("/sse", (c) =>
  streamSSE(c, async (stream) => {
    let id = 0;
    while (!c.var.shutdown.aborted && !stream.aborted) {
      await stream.writeSSE({ id: String(id), event: "tick", data: `tick ${id++}` });
      await sleep(100);
    }
    if (!stream.aborted) await stream.writeSSE({ event: "shutdown", data: "bye", retry: 1000 });
  }));

// Endless SSE that ignores the shutdown: the library ends it with a final `retry:` frame.
app.get("/sse-raw", () => {
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  let id = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(": connected\n\n"));
      timer = setInterval(() => controller.enqueue(encoder.encode(`data: raw ${id++}\n\n`)), 100);
    },
    cancel: () => clearInterval(timer),
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
});

// Never answers and ignores the shutdown: cut at the deadline (503).
app.get("/hang", () => new Promise<Response>(() => {}));

// Echoes WebSocket messages; the library closes the socket with 1001 after `streamGrace`.
app.get(
  "/ws",
  upgradeWebSocket(() => ({
    onMessage(event, ws) {
      ws.send(typeof event.data === "string" ? `echo: ${event.data}` : "echo: (binary)");
    },
  })),
);

// Who may stop the service from a request: with SHUTDOWN_TOKEN set, a client that sends
// `Authorization: Bearer <token>`; without it, clients on this machine only (loopback). An
// unguarded stop route lets anyone who reaches the port take the service down. Behind a proxy on
// the same host every client looks local: set SHUTDOWN_TOKEN there. The probes stay open (they
// say "ready"/"ok" and nothing else).
const getConnInfo = (bunWebSocket ?? await import("hono/deno")).getConnInfo as (
  c: Context,
) => ConnInfo;
function mayShutdown(c: Context): boolean {
  const token = process.env.SHUTDOWN_TOKEN;
  if (token) return c.req.header("authorization") === `Bearer ${token}`;
  const address = getConnInfo(c).remote.address ?? "";
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
}

// Starts the shutdown from inside a handler; this response is still delivered.
app.post("/shutdown", (c) => {
  if (!mayShutdown(c)) return c.text("forbidden\n", 403);
  server.shutdown({ reason: "POST /shutdown" });
  return c.text("shutting down\n", 202);
});

app.get("/healthz", readiness(life));

const server: GracefulExport = gracefulExport(app, {
  timeout: envNumber("SHUTDOWN_TIMEOUT_MS", 10_000),
  ...(process.env.DRAIN_DELAY_MS ? { drainDelay: envNumber("DRAIN_DELAY_MS", 0) } : {}),
  lifecycle: life,
  ...(bunWebSocket
    ? {
      port: envNumber("PORT", 8000),
      hostname: process.env.HOSTNAME || "127.0.0.1",
      websocket: bunWebSocket.websocket,
    }
    : {}),
  onListen: ({ url }) => console.log(`listening on ${url.origin}`),
});
server.onShutdown(() => console.error("[example] cleanup hook: closing resources"), {
  name: "example cleanup",
});

export default server;
