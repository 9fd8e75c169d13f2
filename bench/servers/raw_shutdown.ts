// Benchmark fixture for the keep-alive race: the runtime's own server and its own shutdown, no
// library. The same routes as the demo's `GET /` and `POST /echo`, under Deno or Bun.
//
//   PORT=8000 deno run --allow-net --allow-env bench/servers/raw_shutdown.ts
//   PORT=8000 bun bench/servers/raw_shutdown.ts
//
// Environment: PORT (0 picks a free port). Prints `listening on http://127.0.0.1:PORT` once ready.
// SIGTERM calls `server.shutdown()` (Deno) / `server.stop()` (Bun) at once, with no
// `Connection: close` phase, and exits 0 when it resolves. Two stderr lines say when, counted from
// the signal handler: `[raw] closing the listener after N ms` and `[raw] drained in N ms`.

import process from "node:process";
import { listenRaw } from "./_raw_listen.ts";

type Handler = (request: Request) => Response | Promise<Response>;

const HOSTNAME = "127.0.0.1";

function port(): number {
  const raw = process.env.PORT ?? "0";
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`raw_shutdown: PORT must be an integer in 0..65535, received ${raw}`);
  }
  return value;
}

async function handler(request: Request): Promise<Response> {
  if (request.method === "POST" && new URL(request.url).pathname === "/echo") {
    const body = await request.arrayBuffer();
    return new Response(body, {
      headers: {
        "content-type": request.headers.get("content-type") ?? "application/octet-stream",
      },
    });
  }
  return new Response("ok", { headers: { "content-type": "text/plain; charset=UTF-8" } });
}

function onSigterm(listener: () => void): void {
  // Both runtimes replace the default termination once a listener is installed (D6c, B6).
  if ("Deno" in globalThis) Deno.addSignalListener("SIGTERM", listener);
  else process.on("SIGTERM", listener);
}

function main(): void {
  const listening = listenRaw("raw_shutdown", port(), HOSTNAME, handler);
  let started = false;
  onSigterm(() => {
    if (started) return;
    started = true;
    const at = performance.now();
    const elapsed = (): string => (performance.now() - at).toFixed(1);
    const closing = listening.close();
    console.error(`[raw] closing the listener after ${elapsed()} ms`);
    closing.then(
      () => {
        console.error(`[raw] drained in ${elapsed()} ms`);
        process.exit(0);
      },
      (error) => {
        console.error(`[raw] shutdown failed after ${elapsed()} ms: ${error}`);
        process.exit(1);
      },
    );
  });
  console.log(`listening on http://${HOSTNAME}:${listening.port}`);
}

main();
