// Bun.serve: server.pendingWebSockets and stop() after the server closed a WebSocket.
//
//   node_modules/deno/deno run -A tests/compat/repros/bun_websocket_stop.ts [<bun binary>]
//
// A raw Bun.serve server (no library) accepts one WebSocket (a raw TCP client on the driver). On
// SIGUSR2 it calls ws.close(1001); the client answers the close frame and the server closes the
// TCP connection. The server prints `pendingRequests`/`pendingWebSockets` along the way, what
// stop() returns, whether it settles within 2 s, and then the same for stop(true).
//
// Bun 1.4.5: pendingWebSockets drops to 0 right after the close handler; stop() returns a
// Promise that resolves at once.
// Bun 1.3.14 and 1.2.23: the close handler runs and the client gets its close frame and FIN, but
// pendingWebSockets stays 1 for good and stop() (a Promise) never settles; stop(true) called
// afterwards resolves. A socket closed by the client is not affected. Reported as
// oven-sh/bun#36223 ("server.stop() never resolves after a WebSocket is closed from the server
// side", Bun 1.3.14); the same stale count was oven-sh/bun#8707 on 1.0. Bun 1.4.0 is already
// as 1.4.5.
//
// In the library (whose Bun adapter waits for `pendingWebSockets === 0` and for stop()): every
// WebSocket test on 1.2/1.3 drains "0 request(s) (0 running)" until the deadline, then exits 1
// (or not before the test gives up); browser_test's Chromium WebSocket test the same.

import { Buffer } from "node:buffer";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { binaryFor, isServer, log, RawClient, sleep, startServer, versionOf } from "./_repro.ts";

/** The part of Bun the server role uses (this file is type-checked without Bun's types). */
interface BunServer {
  port: number;
  pendingRequests: number;
  pendingWebSockets: number;
  stop(closeActiveConnections?: boolean): unknown;
  upgrade(request: Request): boolean;
}
interface BunSocket {
  close(code?: number, reason?: string): void;
}
interface BunGlobal {
  serve(options: {
    port: number;
    hostname: string;
    fetch(request: Request, server: BunServer): Response | undefined;
    websocket: {
      open(ws: BunSocket): void;
      message(ws: BunSocket, message: unknown): void;
      close(ws: BunSocket, code: number): void;
    };
  }): BunServer;
}

/** Resolves with how `value` settled within `ms`. */
function settles(value: unknown, ms: number): Promise<string> {
  if (!(value instanceof Promise)) return Promise.resolve("(not a promise)");
  return Promise.race([
    value.then(() => "resolved", (error) => `rejected: ${error}`),
    new Promise<string>((resolve) => setTimeout(() => resolve(`still pending after ${ms} ms`), ms)),
  ]);
}

if (isServer()) {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  let socket: BunSocket | undefined;
  const counts = (): string =>
    `pendingRequests=${server.pendingRequests} pendingWebSockets=${server.pendingWebSockets}`;
  const server = bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request, s) => s.upgrade(request) ? undefined : new Response("no"),
    websocket: {
      open(ws) {
        socket = ws;
        console.log(`open: ${counts()}`);
      },
      message() {},
      close(_ws, code) {
        console.log(`close handler (${code}): ${counts()}`);
        setTimeout(async () => {
          console.log(`100 ms after the close handler: ${counts()}`);
          const stopped = server.stop();
          console.log(`stop() returned ${Object.prototype.toString.call(stopped)}`);
          console.log(`stop(): ${await settles(stopped, 2_000)}; ${counts()}`);
          console.log(`stop(true) then: ${await settles(server.stop(true), 2_000)}`);
          console.log("done");
        }, 100);
      },
    },
  });
  console.log(`listening ${server.port}`);
  console.log(`idle: ${counts()}`);
  process.on("SIGUSR2", () => socket?.close(1001, "going away"));
} else {
  const binary = binaryFor("bun");
  const version = versionOf("bun", binary);
  log(`server on ${version} (${binary})`);
  const server = await startServer("bun", binary, fileURLToPath(import.meta.url));
  const client = await RawClient.connect(server.port, "client");
  client.write(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await sleep(300);
  server.signal("SIGUSR2");
  await sleep(50);
  const mask = Buffer.from([1, 2, 3, 4]);
  const payload = Buffer.from([0x03, 0xe9]).map((byte, i) => byte ^ mask[i % 4]!);
  client.write(Buffer.concat([Buffer.from([0x88, 0x82]), mask, payload]));
  log("client: answered the close frame");
  await server.waitFor("done", 6_000);
  const stale = await server.waitFor(
    "100 ms after the close handler: pendingRequests=0 pendingWebSockets=1",
    0,
  );
  const pending = await server.waitFor("stop(): still pending", 0);
  console.log(
    `RESULT ${version}: after a server-side close, pendingWebSockets ${
      stale ? "stays 1" : "drops to 0"
    } and stop() ${pending ? "never settles (stop(true) does)" : "resolves"}`,
  );
  client.destroy();
  server.signal("SIGKILL");
  process.exit(0);
}
