// A plain fetch handler, no framework: serve() takes any `(request) => Response`, the same
// function you would give Deno.serve or Bun.serve. The streamed route shows that a response is in
// flight until its last byte, not until the handler returns.
//
//   deno run --allow-net --allow-env examples/fetch_handler.ts
//   bun examples/fetch_handler.ts
//
// Then: curl -N 'localhost:8000/count?to=5' & sleep 0.5; kill -TERM <pid>
// All five lines arrive, then the process exits 0. Environment: PORT (8000), HOSTNAME (127.0.0.1).

import process from "node:process";
import { liveness, readiness, serve } from "../mod.ts"; // "@graceful/serve"

const server = serve(handle, {
  port: process.env.PORT ?? 8000,
  hostname: process.env.HOSTNAME || "127.0.0.1",
  onListen: ({ url }) => console.log(`listening on ${url.origin}`),
});
const ready = readiness(server);
const live = liveness();

function handle(request: Request): Response {
  const url = new URL(request.url);
  if (url.pathname === "/readyz") return ready();
  if (url.pathname === "/livez") return live();
  if (url.pathname === "/count") {
    return new Response(count(Number(url.searchParams.get("to") ?? 5)));
  }
  return new Response("hello\n");
}

// One line every 300 ms; the shutdown waits for the last one.
function count(to: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    async pull(controller) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 300));
      controller.enqueue(encoder.encode(`${++i}\n`));
      if (i >= Math.min(to, 100)) controller.close();
    },
  });
}
