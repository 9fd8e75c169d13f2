// Benchmark fixture for the SSE shutdown benchmark: an endless Server-Sent Events endpoint that
// ignores the shutdown, under Deno or Bun, with or without the library.
//
//   MODE=graceful PORT=8000 deno run --allow-net --allow-env --allow-read --v8-flags=--expose-gc bench/servers/sse.ts
//   MODE=raw PORT=8000 bun bench/servers/sse.ts
//
// Environment:
//   MODE  raw (Deno.serve / Bun.serve; SIGTERM -> shutdown()/stop() -> exit once it resolves,
//         which it does not while a stream is open), own (the same raw server, but on SIGTERM the
//         app itself writes `retry: 1000` to every open stream and closes it, then shutdown()/
//         stop() -> exit: what the runtime needs to end N streams, the anchor for the library's
//         end time), or graceful (serve() from mod.ts with logger: false: SIGTERM -> the library
//         ends the streams after streamGrace -> exit; a cleanup hook prints `drained at <ms>`,
//         performance.timeOrigin + now). Default: raw.
//   PORT  0 picks a free port. Prints `listening on http://127.0.0.1:PORT` once ready.
//
// Routes:
//   GET /sse  `: ok\n\n` at once (so that the headers go out now, Bun sends them with the first
//             chunk), then `data: tick\n\n` every second, forever.
//   GET /mem  runs a full GC where the runtime allows it (Deno needs --v8-flags=--expose-gc), then
//             answers process.memoryUsage() as JSON. The orchestrator reads RSS from /proc itself.

import process from "node:process";
import { listenRaw } from "./_raw_listen.ts";
import { serve } from "../../mod.ts";

type Mode = "raw" | "own" | "graceful";
type Handler = (request: Request) => Response;

/** The part of the `Bun` global this fixture uses. */
interface BunGlobal {
  gc(force: boolean): void;
}

const HOSTNAME = "127.0.0.1";
const OK = new TextEncoder().encode(": ok\n\n");
const TICK = new TextEncoder().encode("data: tick\n\n");
const RETRY = new TextEncoder().encode("retry: 1000\n\n");

/** Open streams' own ending (MODE=own): the final frame, the end, the timer stopped. */
const endings = new Set<() => void>();
let own = false;

function mode(): Mode {
  const raw = process.env.MODE;
  if (raw === undefined || raw === "") return "raw";
  if (raw !== "raw" && raw !== "own" && raw !== "graceful") {
    throw new TypeError(`sse: MODE must be raw, own or graceful, received ${JSON.stringify(raw)}`);
  }
  return raw;
}

function port(): number {
  const raw = process.env.PORT ?? "0";
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`sse: PORT must be an integer in 0..65535, received ${raw}`);
  }
  return value;
}

/** An endless event stream that knows nothing of the shutdown. */
function events(): Response {
  let timer: ReturnType<typeof setInterval> | undefined;
  let ending: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(OK);
      ending = (): void => {
        clearInterval(timer);
        controller.enqueue(RETRY);
        controller.close();
      };
      // Only in MODE=own, so that raw and graceful hold exactly the same per stream.
      if (own) endings.add(ending);
      timer = setInterval(() => {
        try {
          controller.enqueue(TICK);
        } catch {
          // The stream was closed or errored without cancel() (nothing reads it any more).
          clearInterval(timer);
        }
      }, 1000);
    },
    cancel() {
      clearInterval(timer);
      if (ending !== undefined) endings.delete(ending);
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

/** A full GC where the runtime exposes one; whether it ran. */
function collect(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === "function") {
    gc();
    return true;
  }
  if ("Bun" in globalThis) {
    (globalThis as unknown as { Bun: BunGlobal }).Bun.gc(true);
    return true;
  }
  return false;
}

function memory(): Response {
  const gc = collect();
  return Response.json({ gc, ...process.memoryUsage() });
}

function handler(request: Request): Response {
  const path = new URL(request.url).pathname;
  if (path === "/sse") return events();
  if (path === "/mem") return memory();
  return new Response("not found\n", { status: 404 });
}

function ready(actualPort: number): void {
  console.log(`listening on http://${HOSTNAME}:${actualPort}`);
}

function main(): void {
  own = mode() === "own";
  if (mode() === "graceful") {
    const server = serve(handler, {
      port: port(),
      hostname: HOSTNAME,
      logger: false,
      onListen: ({ port }) => ready(port),
    });
    // Hooks run once the drain is over: this tells the drain apart from the process exit.
    server.onShutdown(() => {
      console.log(`drained at ${performance.timeOrigin + performance.now()}`);
    });
    return;
  }
  const listening = listenRaw("sse", port(), HOSTNAME, handler);
  const onSigterm = (): void => {
    if (own) {
      for (const end of endings) end();
      endings.clear();
    }
    listening.close().then(() => process.exit(0), () => process.exit(1));
  };
  // Both runtimes replace the default termination once a listener is installed (D6c, B6).
  if ("Deno" in globalThis) Deno.addSignalListener("SIGTERM", onSigterm);
  else process.on("SIGTERM", onSigterm);
  ready(listening.port);
}

main();
