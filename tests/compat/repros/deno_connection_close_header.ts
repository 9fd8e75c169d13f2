// Deno.serve: what a `Connection: close` header set by the handler does to the HTTP/1.1 connection.
//
//   node_modules/deno/deno run -A tests/compat/repros/deno_connection_close_header.ts [<deno binary>]
//
// A raw Deno.serve server (no library) answers every request with `connection: close`. The client
// pipelines two requests in one write, then (if the connection is still open) sends a third.
//
// Deno 2.9.5: the header is sent but ignored: both pipelined requests and the later one are
// answered on the same connection (RUNTIME_FACTS D4; the HTTP/1.1 path Deno owns since 2.8.3).
// Deno 2.5.7 and 2.2.15 (hyper's HTTP/1.1): the header is honoured: one response, then FIN; the
// second pipelined request is dropped without an answer. The same through 2.8.2 (2.6.8, 2.7.14,
// 2.8.2 checked); ignored from 2.8.3, whose HTTP/1.1 path is Deno's own (denoland/deno#34446).
//
// So on these lines Deno behaves like Bun 1.4 during the library's drain (it adds the header).
// In the library's tests: protocols_test "answers pipelined requests in the lame duck completely
// or not at all" expects all three answers on Deno and gets one (expected on Bun 1.4), and
// "answers a request on an idle keep-alive connection in the lame duck with Connection: close"
// would see the connection closed after the answer (it fails earlier on these lines, see
// deno_static_body.ts).

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

if (isServer()) {
  Deno.serve(
    {
      port: 0,
      hostname: "127.0.0.1",
      onListen: ({ port }) => console.log(`listening ${port}`),
    },
    (request) =>
      new Response(`ok ${new URL(request.url).pathname}`, { headers: { connection: "close" } }),
  );
} else {
  const binary = binaryFor("deno");
  const version = versionOf("deno", binary);
  log(`server on ${version} (${binary})`);
  const server = await startServer("deno", binary, fileURLToPath(import.meta.url));
  const client = await RawClient.connect(server.port, "client");
  client.write(get("/1") + get("/2"));
  await sleep(300);
  log(`pipelined /1 and /2: ${client.responses} response(s); connection open=${client.open}`);
  const pipelined = client.responses;
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
