// The routes every peer fixture serves, identical for each: the scenarios of bench/peers/run.ts
// talk to them. None of them cooperates with a shutdown (no shutdown signal, no goodbye frame):
// what happens to them at SIGTERM is up to the shutdown library alone.
//
// Environment (set by the runner): PORT (0 = any free port), HOSTNAME (127.0.0.1), DEADLINE_MS
// (the deadline given to every peer that has one; 10000 by default, as the library's own).

import process from "node:process";
import { createNodeWebSocket } from "@hono/node-ws";
import { type Context, Hono } from "hono";

function _envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be an integer >= 0, received ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Where to listen, and the one deadline every peer that has one gets. */
export const PORT: number = _envNumber("PORT", 8000);
export const HOSTNAME: string = process.env.HOSTNAME || "127.0.0.1";
export const DEADLINE_MS: number = _envNumber("DEADLINE_MS", 10_000);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The Hono app and its @hono/node-ws helper (inject it into the server that serves the app). */
export const app: Hono = new Hono();
export const nodeWebSocket: ReturnType<typeof createNodeWebSocket> = createNodeWebSocket({ app });

app.get("/", (c) => c.text("ok"));

app.post("/echo", async (c) => {
  const body = await c.req.arrayBuffer();
  return c.body(body, 200, {
    "content-type": c.req.header("content-type") ?? "application/octet-stream",
  });
});

async function slow(c: Context): Promise<Response> {
  const ms = Number(c.req.query("ms") ?? "1000");
  await sleep(ms);
  return c.text(`slept ${ms} ms`);
}
app.get("/slow", slow);
// The same as a POST: a proxy does not retry it on another instance once it was sent.
app.post("/slow", slow);

// Endless SSE that ignores any shutdown: a tick every 100 ms until the client or the server ends it.
app.get("/sse", () => {
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  let id = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(": connected\n\n"));
      timer = setInterval(() => {
        controller.enqueue(encoder.encode(`id: ${id}\nevent: tick\ndata: ${id++}\n\n`));
      }, 100);
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
});

// Never answers.
app.get("/hang", () => new Promise<Response>(() => {}));

// Echoes WebSocket messages.
app.get(
  "/ws",
  nodeWebSocket.upgradeWebSocket(() => ({
    onMessage(event, ws) {
      ws.send(typeof event.data === "string" ? `echo: ${event.data}` : "echo: (binary)");
    },
  })),
);

/** The line the runner waits for. */
export function printListening(port: number): void {
  console.log(`listening on http://${HOSTNAME}:${port}`);
}
