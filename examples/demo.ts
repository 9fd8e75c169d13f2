// The demo server: every route shows one shutdown behaviour. Runs unchanged on Deno, Bun and
// Node (22.18 and later run TypeScript by type stripping; serve() needs @hono/node-server there).
//
//   npm run demo                       (Deno)     or   npm run demo:bun
//   deno run -A examples/demo.ts       (Deno)     or   bun examples/demo.ts
//   node examples/demo.ts              (Node)
//
// Then, in another terminal: curl localhost:8000/slow?ms=3000 & kill -TERM <pid>
// The slow request still gets its answer, and the process exits 0 right after it.
//
// Environment: PORT (8000; 0 = any free port), HOSTNAME (127.0.0.1), SHUTDOWN_TIMEOUT_MS (10000),
// DRAIN_DELAY_MS (the library's adaptive default), TLS_CERT_FILE + TLS_KEY_FILE (serve HTTPS when both are set), HTTP2=1
// (with TLS on Node: HTTP/2 and HTTP/1.1 on one port; Deno negotiates HTTP/2 over TLS anyway), REUSE_PORT=1
// (SO_REUSEPORT; Deno needs --unstable-net), SSE_FINAL_FRAME=off (sseFinalFrame: false: SSE
// streams are not looked for, so /sse-raw runs until the deadline cuts it), SHUTDOWN_TOKEN (POST
// /shutdown then needs `Authorization: Bearer <token>`; unset, it answers loopback clients only).

import { readFileSync } from "node:fs";
import process from "node:process";
import { type Context, Hono } from "hono";
import type { ConnInfo } from "hono/conninfo";
import { streamSSE } from "hono/streaming";
import type { UpgradeWebSocket } from "hono/ws";
import { lifecycle, readiness, serve, type Server } from "../mod.ts";
import { type GracefulVariables, health, shutdownSignal } from "../src/hono.ts"; // "@graceful/serve/hono"

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`demo: ${name} must be a number >= 0, received ${JSON.stringify(raw)}`);
  }
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Hono's WebSocket helper for the runtime we run on; on Bun its `websocket` handlers go to serve(),
// on Node the whole of @hono/node-ws (serve() injects it into the server).
const bunWebSocket = "Bun" in globalThis ? await import("hono/bun") : undefined;
const denoWebSocket = "Deno" in globalThis ? await import("hono/deno") : undefined;
const nodeWs = bunWebSocket ?? denoWebSocket ? undefined : await import("@hono/node-ws");

// The shutdown signal exists before the server: routes (often in other modules) use it.
const life = lifecycle();
const app = new Hono<{ Variables: GracefulVariables }>();
const nodeWebSocket = nodeWs?.createNodeWebSocket({ app });
const upgradeWebSocket = (bunWebSocket ?? denoWebSocket ?? nodeWebSocket!)
  .upgradeWebSocket as UpgradeWebSocket;
app.use(health(life)); // GET /readyz and /livez, before any other middleware
app.use("/sse", shutdownSignal(life));
// Handlers use `server` (declared at the end) at request time, when it exists.

app.get("/", (c) => c.text("ok"));

// Waits N ms and ignores the shutdown: the drain waits for it (up to the deadline).
app.get("/slow", async (c) => {
  const ms = Number(c.req.query("ms") ?? "1000");
  await sleep(ms);
  return c.text(`slept ${ms} ms`);
});

// A finite stream: N lines, one every M ms. It counts as in flight until its last byte.
app.get("/stream", (c) => {
  const chunks = Number(c.req.query("chunks") ?? "10");
  const ms = Number(c.req.query("ms") ?? "100");
  const encoder = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i >= chunks) return controller.close();
      if (i > 0) await sleep(ms);
      controller.enqueue(encoder.encode(`chunk ${i++}\n`));
    },
  });
  return c.body(body, 200, { "content-type": "text/plain; charset=utf-8" });
});

// Endless SSE that cooperates: on the shutdown signal it sends a last event and ends.
app.get("/sse", (c) =>
  streamSSE(c, async (stream) => {
    const signal = c.var.shutdown;
    let id = 0;
    while (!signal.aborted && !stream.aborted) {
      await stream.writeSSE({ id: String(id), event: "tick", data: `tick ${id++}` });
      await Promise.race([
        sleep(100),
        new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true })),
      ]);
    }
    if (!stream.aborted) {
      await stream.writeSSE({ event: "shutdown", data: "server is shutting down", retry: 1000 });
    }
  }));

// Endless SSE that ignores the shutdown signal: the library ends it (after `streamGrace`) with a
// final `retry:` frame and a clean end of the body, then cancels this stream so its cleanup runs.
app.get("/sse-raw", () => {
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  let id = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(": connected\n\n"));
      timer = setInterval(() => {
        controller.enqueue(encoder.encode(`id: ${id}\nevent: tick\ndata: raw ${id++}\n\n`));
      }, 100);
    },
    cancel() {
      clearInterval(timer);
      console.error("[demo] /sse-raw source cancelled");
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
});

// Hono's streamSSE, ignoring the shutdown signal: ended by the library like /sse-raw; Hono then
// aborts the stream, which runs its onAbort callbacks and ends the loop.
app.get("/sse-hono-raw", (c) =>
  streamSSE(c, async (stream) => {
    stream.onAbort(() => console.error("[demo] /sse-hono-raw aborted"));
    let id = 0;
    while (!stream.aborted) {
      await stream.writeSSE({ id: String(id), event: "tick", data: `hono ${id++}` });
      await sleep(100);
    }
  }));

// Never answers and ignores the shutdown: cut at the deadline.
app.get("/hang", () => new Promise<Response>(() => {}));

app.post("/echo", async (c) => {
  const body = await c.req.arrayBuffer();
  return c.body(body, 200, {
    "content-type": c.req.header("content-type") ?? "application/octet-stream",
  });
});

// Echoes WebSocket messages. At shutdown the client first gets a goodbye message (the handler
// sees the signal), then, after `streamGrace`, the library closes the socket with 1001.
app.get(
  "/ws",
  upgradeWebSocket(() => {
    let stopListening = (): void => {};
    return {
      onOpen(_event, ws) {
        const goodbye = (): void => ws.send("server is shutting down");
        life.signal.addEventListener("abort", goodbye, { once: true });
        stopListening = () => life.signal.removeEventListener("abort", goodbye);
      },
      onMessage(event, ws) {
        ws.send(typeof event.data === "string" ? `echo: ${event.data}` : "echo: (binary)");
      },
      onClose(event) {
        stopListening();
        console.error(`[demo] /ws closed with ${event.code}`);
      },
    };
  }),
);

// Who may stop the service from a request: with SHUTDOWN_TOKEN set, a client that sends
// `Authorization: Bearer <token>`; without it, clients on this machine only (loopback). An
// unguarded stop route lets anyone who reaches the port take the service down. Behind a proxy on
// the same host every client looks local: set SHUTDOWN_TOKEN there. The probes stay open (they
// say "ready"/"ok" and nothing else).
const getConnInfo = (bunWebSocket ?? denoWebSocket ?? await import("@hono/node-server/conninfo"))
  .getConnInfo as (c: Context) => ConnInfo;
function mayShutdown(c: Context): boolean {
  const token = process.env.SHUTDOWN_TOKEN;
  if (token) return c.req.header("authorization") === `Bearer ${token}`;
  const address = getConnInfo(c).remote.address ?? "";
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
}

// Starts a graceful shutdown from inside a handler; this response is still delivered.
app.post("/shutdown", (c) => {
  if (!mayShutdown(c)) return c.text("forbidden\n", 403);
  server.shutdown({ reason: "POST /shutdown" });
  return c.text("shutting down\n", 202);
});

// Probes: /readyz turns 503 the moment the shutdown begins (load balancers stop sending), /livez
// stays 200 until exit. /healthz is the readiness probe under its older name.
app.get("/healthz", readiness(life));

const certFile = process.env.TLS_CERT_FILE;
const keyFile = process.env.TLS_KEY_FILE;
const server: Server = serve(app, {
  port: envNumber("PORT", 8000),
  hostname: process.env.HOSTNAME || "127.0.0.1",
  timeout: envNumber("SHUTDOWN_TIMEOUT_MS", 10_000),
  // Unset: the library's adaptive lame duck (up to 300 ms, over once 20 ms pass without a request).
  ...(process.env.DRAIN_DELAY_MS ? { drainDelay: envNumber("DRAIN_DELAY_MS", 0) } : {}),
  // Two instances on one port (rolling restarts without a proxy); Deno needs --unstable-net.
  reusePort: process.env.REUSE_PORT === "1",
  ...(process.env.SSE_FINAL_FRAME === "off" ? { sseFinalFrame: false } : {}),
  ...(certFile && keyFile
    ? { tls: { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") } }
    : {}),
  ...(process.env.HTTP2 === "1" ? { http2: true } : {}),
  lifecycle: life,
  ...(bunWebSocket ? { websocket: bunWebSocket.websocket } : {}),
  ...(nodeWebSocket ? { websocket: nodeWebSocket } : {}),
  onListen: ({ url }) => console.log(`listening on ${url.origin}`),
});
server.onShutdown(() => console.error("[demo] cleanup hook: closing resources"), {
  name: "demo cleanup",
});
