// Deno.serve: when does `info.completed` settle for a string body, and for a streamed one?
//
//   node_modules/deno/deno run -A tests/compat/repros/deno_completed_handover.ts [<deno binary>]
//
// A raw Deno.serve server (no library) answers GET /string with a 32 MiB string and GET /stream
// with the same bytes in a ReadableStream, and logs when each request's `info.completed` settles.
// The client (raw TCP, on the driver) sends each request and reads nothing for 1 s, so the socket's
// buffers fill and most of the body is still unwritten; then it reads everything.
//
// Deno 2.2.15, 2.5.7 and 2.9.5: the string body's `completed` settles at once, while the client has
// read none of it (Deno settles it when it takes the body, before writing it); the streamed body's
// settles only once the client read the whole body.
//
// This is what the library's public-API path stands on: while serving, it counts a request until
// Deno takes the response, which is what `completed` says for a string body anyway
// (src/runtime/deno/respond.ts, `handedOver`).

import type { Buffer } from "node:buffer";
import net from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { binaryFor, isServer, log, sleep, startServer, versionOf } from "./_repro.ts";

const SIZE = 32 * 1024 * 1024;

if (isServer()) {
  const text = "x".repeat(SIZE);
  Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(`listening ${port}`),
  }, (request, info) => {
    const kind = new URL(request.url).pathname.slice(1);
    info.completed.then(
      () => console.log(`${kind}: info.completed resolved`),
      (error) => console.log(`${kind}: info.completed rejected: ${error}`),
    );
    if (kind === "string") return new Response(text);
    const bytes = new TextEncoder().encode(text);
    return new Response(
      new ReadableStream({
        start(controller) {
          for (let i = 0; i < SIZE; i += 65536) controller.enqueue(bytes.subarray(i, i + 65536));
          controller.close();
        },
      }),
    );
  });
} else {
  const binary = binaryFor("deno");
  const version = versionOf("deno", binary);
  log(`server on ${version} (${binary})`);
  const server = await startServer("deno", binary, fileURLToPath(import.meta.url));
  const results: string[] = [];
  for (const kind of ["string", "stream"]) {
    // Counts the bytes only: the body is too large to keep.
    let received = 0;
    const socket = net.connect({ port: server.port, host: "127.0.0.1" });
    socket.on("data", (chunk: Buffer) => (received += chunk.length));
    socket.on("error", (error) => log(`${kind}: ${error.message}`));
    socket.pause();
    socket.write(`GET /${kind} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const early = await server.waitFor(`${kind}: info.completed`, 1_000);
    log(`${kind}: client read ${received} bytes so far`);
    socket.resume();
    const start = Date.now();
    while (received < SIZE && Date.now() - start < 20_000) await sleep(20);
    const late = await server.waitFor(`${kind}: info.completed`, 2_000);
    log(`${kind}: client read ${received} bytes`);
    results.push(
      `${kind} body: ${
        early
          ? "settled before the client read anything"
          : late
          ? "settled once the client read the body"
          : "never settled"
      }`,
    );
    socket.destroy();
  }
  console.log(`RESULT ${version}: info.completed of a 32 MiB ${results.join("; ")}`);
  server.signal("SIGKILL");
  process.exit(0);
}
