// Baseline for the rolling-restart test: the demo's routes on the runtime's own server, without
// the library. Runs unchanged on Deno and Bun.
//
//   deno run --allow-net --allow-env --allow-read tests/rollout/servers/raw.ts   or
//   bun tests/rollout/servers/raw.ts
//
// Environment:
//   ON_SIGTERM  exit: no signal listener, so SIGTERM kills the process at once (the runtime's
//                     default).
//               shutdown: SIGTERM -> Deno's server.shutdown() / Bun's server.stop(), then exit 0;
//                     no lame duck, no Connection: close.                          Default: exit.
//   PORT        0 picks a free port.                                               Default: 8000.
//   HOSTNAME    Interface to bind.                                                 Default: 127.0.0.1.
//   REUSE_PORT  1 sets SO_REUSEPORT (Deno needs --unstable-net).
// Prints `listening on http://<hostname>:<port>` on stdout once ready.

import process from "node:process";
import { Hono } from "hono";

type OnSigterm = "exit" | "shutdown";

/** The part of Bun's server this baseline uses. */
interface BunServer {
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

/** The part of the `Bun` global this baseline uses. */
interface BunGlobal {
  serve(options: {
    port: number;
    hostname: string;
    reusePort: boolean;
    fetch: (request: Request) => Response | Promise<Response>;
  }): BunServer;
}

function onSigtermMode(): OnSigterm {
  const raw = process.env.ON_SIGTERM || "exit";
  if (raw !== "exit" && raw !== "shutdown") {
    throw new TypeError(`raw: ON_SIGTERM must be "exit" or "shutdown", received ${raw}`);
  }
  return raw;
}

function portNumber(): number {
  const raw = process.env.PORT || "8000";
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`raw: PORT must be an integer in 0..65535, received ${raw}`);
  }
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// The demo's routes that the load uses, plus /slow and /healthz, with the same answers.
const app = new Hono();
app.get("/", (c) => c.text("ok"));
app.get("/slow", async (c) => {
  const ms = Number(c.req.query("ms") ?? "1000");
  await sleep(ms);
  return c.text(`slept ${ms} ms`);
});
app.post("/echo", async (c) => {
  const body = await c.req.arrayBuffer();
  return c.body(body, 200, {
    "content-type": c.req.header("content-type") ?? "application/octet-stream",
  });
});
app.get("/healthz", (c) => c.text("ok"));

const mode = onSigtermMode();
const hostname = process.env.HOSTNAME || "127.0.0.1";
const reusePort = process.env.REUSE_PORT === "1";
let port: number;
let close: () => Promise<void>;

if ("Deno" in globalThis) {
  const server = Deno.serve(
    { port: portNumber(), hostname, reusePort, onListen: () => {} },
    app.fetch,
  );
  port = server.addr.port;
  close = () => server.shutdown();
} else if ("Bun" in globalThis) {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const server = bun.serve({ port: portNumber(), hostname, reusePort, fetch: app.fetch });
  port = server.port;
  close = () => server.stop();
} else {
  throw new Error("raw: run this under Deno or Bun");
}

if (mode === "shutdown") {
  // A listener replaces the default termination on both runtimes.
  process.on("SIGTERM", () => {
    close().then(() => process.exit(0), () => process.exit(1));
  });
}
console.log(`listening on http://${hostname}:${port}`);
