// Benchmark fixture: bench/servers/hello.ts's tiny server on Node (22.18 or later, which runs
// TypeScript by type stripping), served by @hono/node-server, with or without the library.
//
//   node bench/servers/hello_node.ts
//
// Environment (as hello.ts):
//   MODE  raw (@hono/node-server: createAdaptorServer() + listen(), as its serve() does; SIGTERM ->
//         server.close() -> exit),
//         graceful (graceful() + createAdaptorServer() + attach(), SIGTERM -> g.shutdown() -> exit
//         with its code), serve (serve() from mod.ts with exit and logger: false). Default: raw.
//   APP   plain (`() => new Response("ok")`) or hono (`app.get("/", (c) => c.text("ok"))`).
//   PORT  0 picks a free port. Prints `listening on http://127.0.0.1:PORT` once ready.
//   SSE   off (graceful and serve modes): `sseFinalFrame: false`.
//   PROBE getter (raw mode, plain app): the handler also reads `response.headers`, the one read
//         the library's public-API path adds to each response: @hono/node-server's price of it.

import type { AddressInfo } from "node:net";
import process from "node:process";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { type FetchHandler, graceful, serve } from "../../mod.ts";
import { choice, port as envPort } from "./_env.ts";

const HOSTNAME = "127.0.0.1";

function ready(actualPort: number): void {
  console.log(`listening on http://${HOSTNAME}:${actualPort}`);
}

const NAME = "hello_node";
const mode = choice("MODE", ["raw", "graceful", "serve"], "raw", NAME);
const appName = choice("APP", ["plain", "hono"], "plain", NAME);
const sse = choice("SSE", ["on", "off"], "on", NAME) === "off"
  ? { sseFinalFrame: false as const }
  : {};
const hono = new Hono();
hono.get("/", (c) => c.text("ok"));
const probe = choice("PROBE", ["none", "getter"], "none", NAME);
const plain = probe === "getter"
  ? (): Response => {
    const response = new Response("ok");
    void response.headers;
    return response;
  }
  : (): Response => new Response("ok");
// The library gets the app itself (as users write `serve(app)`); raw serves its fetch.
const target: FetchHandler | { fetch: FetchHandler } = appName === "hono" ? hono : plain;
const fetch = appName === "hono" ? hono.fetch : plain;

if (mode === "serve") {
  serve(target, {
    port: envPort(NAME),
    hostname: HOSTNAME,
    exit: true,
    logger: false,
    ...sse,
    onListen: ({ port }) => ready(port),
  });
} else {
  const g = mode === "graceful" ? graceful(target, { logger: false, ...sse }) : undefined;
  const server = createAdaptorServer({ fetch: g ? g.fetch as typeof fetch : fetch });
  g?.attach(server);
  server.listen(envPort(NAME), HOSTNAME, () => ready((server.address() as AddressInfo).port));
  process.on("SIGTERM", () => {
    if (g) g.shutdown({ signal: "SIGTERM" }).then((report) => process.exit(report.exitCode));
    else server.close(() => process.exit(0));
  });
}
