// A WebSocket echo server on the runtime's own API (no Hono), for the WebSocket tests:
//   MODE=serve    serve() with Deno.upgradeWebSocket / Bun's server.upgrade + `websocket` option
//   MODE=graceful Deno.serve / Bun.serve called here, with graceful(), attach() and g.websocket()
// GET /count answers {"inFlight", "webSockets"}. Prints `listening on http://127.0.0.1:<port>`.

import process from "node:process";
import { type Graceful, graceful, serve } from "../../mod.ts";

const mode = process.env.MODE ?? "serve";
const isDeno = "Deno" in globalThis;
let controls: Graceful | undefined;

function handler(request: Request, server: unknown): Response | undefined {
  const url = new URL(request.url);
  if (url.pathname === "/count") {
    return Response.json({ inFlight: controls!.inFlight, webSockets: controls!.webSockets });
  }
  if (url.pathname !== "/ws") return new Response("not found", { status: 404 });
  if (isDeno) {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = (event) => socket.send(`echo: ${event.data}`);
    return response;
  }
  const upgraded = (server as { upgrade(request: Request): boolean }).upgrade(request);
  return upgraded ? undefined : new Response("upgrade failed", { status: 400 });
}

const websocket = {
  message(ws: { send(data: string): void }, message: string | Uint8Array): void {
    ws.send(`echo: ${message}`);
  },
};

if (mode === "serve") {
  controls = serve(handler, {
    port: 0,
    hostname: "127.0.0.1",
    timeout: 3_000,
    ...(isDeno ? {} : { websocket }),
    onListen: ({ url }) => console.log(`listening on ${url.origin}`),
  });
} else {
  const g = graceful(handler, { timeout: 3_000 });
  controls = g;
  let port: number;
  if (isDeno) {
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      g.fetch as Deno.ServeHandler<Deno.NetAddr>,
    );
    g.attach(server);
    port = server.addr.port;
  } else {
    const bun = (globalThis as unknown as {
      Bun: {
        serve(options: object): { port: number };
      };
    }).Bun;
    const server = bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: g.fetch,
      websocket: g.websocket(websocket),
    });
    g.attach(server);
    port = server.port;
  }
  process.on("SIGTERM", async () => {
    const report = await g.shutdown({ signal: "SIGTERM" });
    process.exit(report.exitCode);
  });
  console.log(`listening on http://127.0.0.1:${port}`);
}
