// A reverse proxy that a rollout does not cut: requests being proxied at SIGTERM run to the end.
// The upstream fetch gets `clientSignal(request)`, which aborts only when the client goes away
// (no one is left to answer). It must NOT get the shutdown signal (`server.signal`, `life.signal`,
// `requestSignal()`): that aborts at SIGTERM and would cut every proxied request in flight, the
// very thing a graceful shutdown exists to avoid. The drain waits for them; `timeout` bounds it.
//
//   UPSTREAM=http://127.0.0.1:8080 deno run --allow-net --allow-env examples/proxy.ts
//   UPSTREAM=http://127.0.0.1:8080 bun examples/proxy.ts
//
// On Deno, `--unstable-no-legacy-abort` (or "unstable": ["no-legacy-abort"] in deno.json) makes
// `clientSignal()` fire only when the client goes away, not also after each finished response.
// Environment: UPSTREAM (required), PORT (8000; 0 = any free port), HOSTNAME (127.0.0.1).

import process from "node:process";
import { clientSignal, serve } from "../mod.ts"; // "@graceful/serve"

const upstream = new URL(process.env.UPSTREAM ?? "");
// Hop-by-hop headers (RFC 9110, 7.6.1) are not forwarded; fetch() has already decoded the body,
// so its original encoding and length no longer apply.
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host"];
const DECODED = ["content-encoding", "content-length"];

async function proxy(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  for (const name of HOP_BY_HOP) headers.delete(name);
  const gone = clientSignal(request);
  try {
    const response = await fetch(new URL(url.pathname + url.search, upstream), {
      method: request.method,
      headers,
      // Buffered to keep the example short; a streamed upload needs `duplex: "half"` on Node.
      body: request.method === "GET" || request.method === "HEAD"
        ? undefined
        : await request.arrayBuffer(),
      redirect: "manual",
      signal: gone, // the client went away, never the shutdown
    });
    const out = new Headers(response.headers);
    for (const name of [...HOP_BY_HOP, ...DECODED]) out.delete(name);
    return new Response(response.body, { status: response.status, headers: out });
  } catch (error) {
    if (gone.aborted) return new Response(null, { status: 499 }); // nobody to tell
    console.error(`proxy: ${url.pathname}: ${error}`);
    return new Response("bad gateway\n", { status: 502 });
  }
}

serve(proxy, {
  port: process.env.PORT ?? 8000,
  hostname: process.env.HOSTNAME || "127.0.0.1",
  timeout: 30_000, // the longest upstream answer you are willing to wait for at shutdown
  onListen: ({ url }) => console.log(`listening on ${url.origin}, proxying to ${upstream.origin}`),
});
