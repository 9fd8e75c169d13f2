// Bun.serve: stop() and an idle HTTP/1.1 keep-alive connection.
//
//   node_modules/deno/deno run -A tests/compat/repros/bun_idle_keepalive_stop.ts [<bun binary>]
//
// A raw Bun.serve server (no library). The client gets one answer on a keep-alive connection,
// which is then idle; on SIGUSR2 the server calls stop() (graceful); 200 ms later the client
// sends another request on the same connection.
//
// Bun 1.4.5: stop() closes the idle connection at once (FIN) and resolves; the late request
// meets a closed connection (what RUNTIME_FACTS B1 and the library's drain rely on).
// Bun 1.3.14 and 1.2.23: stop() resolves at once but leaves the idle connection open, and the
// late request is answered after stop() - by a server the library considers stopped (it may exit
// while such a request is in flight). Bun closes idle connections on stop() since
// oven-sh/bun#37074 (the related oven-sh/bun#35850/#35130 made stop()'s promise wait for open
// connections). Bun 1.4.0 is already as 1.4.5. On 1.2/1.3 a later stop(true) does not close the
// connection either (what oven-sh/bun#33662 describes): only the process exit does.
//
// In the library: core_test "never answers partially on a keep-alive connection reused after
// SIGTERM" fails on 1.2/1.3 ("the idle connection was still open 200 ms after SIGTERM").

import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  binaryFor,
  get,
  isServer,
  log,
  RawClient,
  sleep,
  startServer,
  versionOf,
} from "./_repro.ts";

/** The part of Bun the server role uses (this file is type-checked without Bun's types). */
interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}
interface BunGlobal {
  serve(options: Record<string, unknown>): BunServer;
}
const bun = (globalThis as unknown as { Bun?: BunGlobal }).Bun;

if (isServer()) {
  const server = bun!.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request: Request) => new Response(`ok ${new URL(request.url).pathname}`),
  });
  console.log(`listening ${server.port}`);
  // Keeps the process alive after stop(), as the library's drain does: otherwise the process
  // exits once stop() resolves and the kernel closes the connection, whatever Bun did.
  setInterval(() => {}, 1_000);
  process.on("SIGUSR2", () => {
    console.log("stop() called");
    server.stop().then(() => console.log("stop() resolved"));
  });
} else {
  const binary = binaryFor("bun");
  const version = versionOf("bun", binary);
  log(`server on ${version} (${binary})`);
  const server = await startServer("bun", binary, fileURLToPath(import.meta.url));
  const client = await RawClient.connect(server.port, "client");
  client.write(get("/first"));
  await sleep(200);
  log(`first answer: ${client.responses === 1}; the connection is idle`);
  server.signal("SIGUSR2");
  await sleep(200);
  const openAfterStop = client.open;
  log(`200 ms after stop(): connection open=${openAfterStop}; sending GET /late on it`);
  client.write(get("/late"));
  await sleep(300);
  const late = client.text.includes("ok /late");
  log(`GET /late answered: ${late}`);
  console.log(
    `RESULT ${version}: stop() ${
      openAfterStop
        ? `left the idle keep-alive connection open; a request sent on it afterwards was ${
          late ? "answered" : "not answered"
        }`
        : "closed the idle keep-alive connection at once"
    }`,
  );
  client.destroy();
  server.signal("SIGKILL");
  process.exit(0);
}
