// Bun.serve: what a `Connection: close` header set by the handler does to the HTTP/1.1 connection.
//
//   node_modules/deno/deno run -A tests/compat/repros/bun_connection_close_header.ts [<bun binary>]
//
// A raw Bun.serve server (no library) answers every request with `connection: close`. The client
// pipelines two requests in one write, then (if the connection is still open) sends a third.
//
// Bun 1.4.5: the header is honoured: one answer, then FIN; the pipelined request after it is
// not answered (RUNTIME_FACTS B3).
// Bun 1.3.14 and 1.2.23: the header is sent but the connection stays open: all three requests
// are answered on it (as Deno 2.9.5 does, RUNTIME_FACTS D4). Bun 1.4.0: both pipelined requests
// are answered, then FIN.
//
// In the library (which adds the header to every response during its drain, and relies on
// compliant clients or the runtime to close): core_test "answers a keep-alive request in the
// lame-duck delay with connection: close, then closes the connection" (closed only when stop()
// ran, about 1 s later), protocols_test "answers a request on an idle keep-alive connection in the
// lame duck with Connection: close" ("Bun kept the connection open", twice, with and without TLS)
// and "answers pipelined requests in the lame duck completely or not at all" (three answers
// where Bun 1.4 gives one) fail on 1.2/1.3.

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
    fetch: (request: Request) =>
      new Response(`ok ${new URL(request.url).pathname}`, { headers: { connection: "close" } }),
  });
  console.log(`listening ${server.port}`);
} else {
  const binary = binaryFor("bun");
  const version = versionOf("bun", binary);
  log(`server on ${version} (${binary})`);
  const server = await startServer("bun", binary, fileURLToPath(import.meta.url));
  const client = await RawClient.connect(server.port, "client");
  client.write(get("/1") + get("/2"));
  await sleep(300);
  const pipelined = client.responses;
  log(`pipelined /1 and /2: ${pipelined} response(s); connection open=${client.open}`);
  client.write(get("/3"));
  await sleep(300);
  log(`then /3: ${client.responses} response(s) in all; connection open=${client.open}`);
  console.log(
    `RESULT ${version}: a response with Connection: close ${
      pipelined === 1 && client.fin
        ? "closes the connection (FIN); the pipelined request after it is dropped"
        : `leaves it open: ${client.responses} of 3 requests answered`
    }`,
  );
  client.destroy();
  server.signal("SIGKILL");
  process.exit(0);
}
