// Benchmark fixture: one tiny server, under Deno or Bun, with or without the library. Under Node
// it runs bench/servers/hello_node.ts, the same server on @hono/node-server (MODE, APP, PORT, SSE).
//
//   deno run --allow-net --allow-env bench/servers/hello.ts      or   bun bench/servers/hello.ts
//   node bench/servers/hello.ts
//
// Environment:
//   MODE  raw (Deno.serve / Bun.serve, SIGTERM -> shutdown()/stop() -> exit),
//         graceful (graceful() + attach(), SIGTERM -> g.shutdown() -> exit with its code),
//         serve (serve() from mod.ts with exit and logger: false).           Default: raw.
//   APP   plain (`() => new Response("ok")`), args (`(_request) => new Response("ok")`) or hono
//         (`app.get("/", (c) => c.text("ok"))`).
//   PORT  0 picks a free port. Prints `listening on http://127.0.0.1:PORT` once ready.
//   SLOW  1 adds GET /slow?ms=N (sleeps N ms, then "slept N ms"), for the shutdown anchors. It is
//         off for throughput runs so that the plain handler stays exactly `() => new Response("ok")`.
//   PROBE raw mode only: the handler plus one of the library's runtime calls, and nothing else of
//         it (bench/corun.ts): `headers`, its check for SSE responses
//         (`response.headers.get("content-type")?.startsWith("text/event-stream")`); `getter`, a
//         read of `response.headers` alone; `completed`, one reaction to Deno's `info.completed`
//         (the handler then declares `(request, info)`); `both`, headers and completed.
//   SSE   off (graceful and serve modes): the library gets `sseFinalFrame: false`, so it does not
//         look for SSE responses and makes no such read.

import process from "node:process";
import { Hono } from "hono";
import { type FetchHandler, graceful, serve } from "../../mod.ts";
import { _isEventStream } from "../../src/responses.ts";
import { choice, port } from "./_env.ts";

type Mode = "raw" | "graceful" | "serve";
type App = "plain" | "args" | "hono";
type Handler = (request: Request, arg: never) => Response | Promise<Response>;

/** The part of Bun's server this fixture uses. */
interface BunServer {
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

/** The part of the `Bun` global this fixture uses. */
interface BunGlobal {
  serve(options: { port: number; hostname: string; fetch: Handler }): BunServer;
}

const HOSTNAME = "127.0.0.1";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The handler under test. Raw mode serves `fetch`; the library gets `target`, i.e. the Hono app
 * itself (as users write `serve(app)`), or the same bare function.
 */
function handlerFor(app: App, slow: boolean): { fetch: Handler; target: Handler | Hono } {
  if (app === "hono") {
    const hono = new Hono();
    hono.get("/", (c) => c.text("ok"));
    if (slow) {
      hono.get("/slow", async (c) => {
        const ms = Number(c.req.query("ms") ?? "1000");
        await sleep(ms);
        return c.text(`slept ${ms} ms`);
      });
    }
    return { fetch: hono.fetch as Handler, target: hono };
  }
  // "plain" declares no parameters (Deno's fastest path), "args" declares the request.
  const fetch: Handler = slow
    ? slowPlain
    : app === "args"
    ? (_request: Request) => new Response("ok")
    : () => new Response("ok");
  return { fetch, target: fetch };
}

async function slowPlain(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname !== "/slow") return new Response("ok");
  const ms = Number(url.searchParams.get("ms") ?? "1000");
  await sleep(ms);
  return new Response(`slept ${ms} ms`);
}

/** The handler, plus the library's check for SSE responses (its one read of the response). */
function withHeadersRead(fetch: Handler): Handler {
  let seen = 0;
  return (request, arg) => {
    const response = fetch(request, arg) as Response;
    if (_isEventStream(response)) seen++; // the answer is used, as the library uses it
    return response;
  };
}

/** The handler, plus one reaction to Deno's `info.completed` (the public-API path's other cost). */
function withCompletedReaction(fetch: Handler): Handler {
  let done = 0;
  const over = (): void => {
    done++;
  };
  return (request, arg) => {
    const response = fetch(request, arg) as Response;
    (arg as { completed: Promise<void> }).completed.then(over, over);
    return response;
  };
}

/** The handler, plus a read of `response.headers` and nothing else (no lookup in it). */
function withHeadersObject(fetch: Handler): Handler {
  let seen = 0;
  return (request, arg) => {
    const response = fetch(request, arg) as Response;
    if (response.headers !== null) seen++;
    return response;
  };
}

function probed(fetch: Handler): Handler {
  const probe = choice("PROBE", ["none", "headers", "getter", "completed", "both"], "none");
  if (probe === "getter") return withHeadersObject(fetch);
  if (probe === "headers") return withHeadersRead(fetch);
  if (probe === "completed") return withCompletedReaction(fetch);
  if (probe === "both") return withHeadersRead(withCompletedReaction(fetch));
  return fetch;
}

function ready(actualPort: number): void {
  console.log(`listening on http://${HOSTNAME}:${actualPort}`);
}

/** Starts the runtime's own server; returns its port and a graceful close. */
function listen(handler: Handler): { port: number; close: () => Promise<void>; server: object } {
  if ("Deno" in globalThis) {
    const server = Deno.serve(
      { port: port(), hostname: HOSTNAME, onListen: () => {} },
      handler as Deno.ServeHandler<Deno.NetAddr>,
    );
    return { port: server.addr.port, close: () => server.shutdown(), server };
  }
  if ("Bun" in globalThis) {
    const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
    const server = bun.serve({ port: port(), hostname: HOSTNAME, fetch: handler });
    return { port: server.port, close: () => server.stop(), server };
  }
  throw new Error("hello: run this under Deno or Bun");
}

function onSigterm(listener: () => void): void {
  // Both runtimes replace the default termination once a listener is installed (D6c, B6).
  if ("Deno" in globalThis) Deno.addSignalListener("SIGTERM", listener);
  else process.on("SIGTERM", listener);
}

function main(): void {
  const mode = choice<Mode>("MODE", ["raw", "graceful", "serve"], "raw");
  const app = choice<App>("APP", ["plain", "args", "hono"], "plain");
  const handler = handlerFor(app, process.env.SLOW === "1");
  const target = handler.target as FetchHandler | { fetch: FetchHandler };
  const sse = choice("SSE", ["on", "off"], "on") === "off" ? { sseFinalFrame: false as const } : {};

  if (mode === "serve") {
    serve(target, {
      port: port(),
      hostname: HOSTNAME,
      exit: true,
      logger: false,
      ...sse,
      onListen: ({ port }) => ready(port),
    });
    return;
  }
  if (mode === "graceful") {
    const g = graceful(target, { logger: false, ...sse });
    const listening = listen(g.fetch as Handler);
    g.attach(listening.server);
    onSigterm(() => {
      g.shutdown({ signal: "SIGTERM" }).then((report) => process.exit(report.exitCode));
    });
    ready(listening.port);
    return;
  }
  const listening = listen(probed(handler.fetch));
  onSigterm(() => {
    listening.close().then(() => process.exit(0), () => process.exit(1));
  });
  ready(listening.port);
}

if ("Deno" in globalThis || "Bun" in globalThis) main();
else await import("./hello_node.ts");
