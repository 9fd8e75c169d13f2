// A raw Deno.serve / Bun.serve server (no library) for the runtime probes (_runtime_probes.ts): what
// the runtime itself does, so that a test can expect it from the library too.
//   GET /close  "ok" with `Connection: close`
//   GET /stop   "stopping", then a graceful stop (Deno: server.shutdown(); Bun: server.stop())
//   otherwise   "ok"
// Prints `listening on http://127.0.0.1:<port>`; runs until killed (a timer keeps the process
// alive after the stop, so that only the runtime, not the exit, closes connections).

/** The part of Bun the server uses (this file is type-checked without Bun's types). */
interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

function answer(request: Request, stop: () => void): Response {
  const path = new URL(request.url).pathname;
  if (path === "/stop") {
    setTimeout(stop, 0);
    return new Response("stopping");
  }
  return new Response("ok", path === "/close" ? { headers: { connection: "close" } } : {});
}

setInterval(() => {}, 60_000);

if ("Deno" in globalThis) {
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => answer(request, () => void server.shutdown()),
  );
  console.log(`listening on http://127.0.0.1:${server.addr.port}`);
} else {
  const bun = (globalThis as unknown as {
    Bun: { serve(options: Record<string, unknown>): BunServer };
  }).Bun;
  const server = bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request: Request, self: BunServer) => answer(request, () => void self.stop()),
  });
  console.log(`listening on http://127.0.0.1:${server.port}`);
}
