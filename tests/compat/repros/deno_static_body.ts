// Deno: where a Response keeps a string body, and what reading `response.body` does to its framing.
//
//   node_modules/deno/deno run -A tests/compat/repros/deno_static_body.ts [<deno binary>]
//
// The server role prints which internal slots hold the body of `new Response("probe")` (found by
// their symbols' descriptions, as the library's Deno adapter finds them), then serves
// `new Response("ok")` on /plain and the same after reading `response.body` on /read-body.
//
// Deno 2.9.5: the body of `new Response("probe")` is in the "serve fast body" slot (the inner
// "response" slot gets it once the headers are read, or with a status or headers of its own), and
// a response whose `body` was read still goes out with `content-length: 2` (2.9 also has "lazy
// static body" slots).
// Deno 2.5.7 and 2.2.15: there is no "serve fast body" slot (nor any "serve fast ..." or "lazy
// static ..." slot); the inner "response" slot holds the string (`.body.streamOrStatic.body`).
// Reading `response.body` turns it into a plain ReadableStream and Deno sends the response
// chunked, without Content-Length (/read-body), where /plain has `content-length: 2`.
//
// In the library: its whole-body test (src/runtime/deno*, `_denoWholeBodyTest`) requires both
// slots, so on 2.5.7/2.2.15 it is off and every response takes the general path, which reads
// `response.body` (to hold a stream in place): every string or bytes response loses its
// Content-Length and goes out chunked, while serving too. protocols_test "answers a request on an
// idle keep-alive connection in the lame duck with Connection: close" fails with "sent without
// its length". The inner slot alone would do on these lines. (2.6.8, 2.7.14 and 2.8.2 are as
// 2.5.7; 2.8.3 as 2.9.5.)

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
  const probe = new Response("probe");
  const symbols = Object.getOwnPropertySymbols(probe);
  const slots = probe as unknown as Record<symbol, unknown>;
  const fast = symbols.find((s) => s.description === "serve fast body");
  const inner = symbols.find((s) => s.description === "response");
  const innerBody = inner === undefined
    ? undefined
    : (slots[inner] as { body?: { streamOrStatic?: { body?: unknown } } }).body?.streamOrStatic
      ?.body;
  console.log(
    `slot "serve fast body": ${fast === undefined ? "absent" : JSON.stringify(slots[fast])}`,
  );
  console.log(`slot "response" .body.streamOrStatic.body: ${JSON.stringify(innerBody)}`);
  Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(`listening ${port}`),
  }, (request) => {
    const response = new Response("ok");
    if (new URL(request.url).pathname === "/read-body") void response.body;
    return response;
  });
} else {
  const binary = binaryFor("deno");
  const version = versionOf("deno", binary);
  log(`server on ${version} (${binary})`);
  const server = await startServer("deno", binary, fileURLToPath(import.meta.url));
  const framing: string[] = [];
  for (const path of ["/plain", "/read-body"]) {
    const client = await RawClient.connect(server.port, path);
    client.write(get(path));
    await sleep(200);
    const head = client.text.split("\r\n\r\n")[0]!.toLowerCase();
    const length = /content-length: (\d+)/.exec(head)?.[1];
    framing.push(
      `${path}: ${length !== undefined ? `content-length ${length}` : ""}${
        head.includes("transfer-encoding: chunked") ? "chunked" : ""
      }`,
    );
    log(framing.at(-1)!);
    client.destroy();
  }
  const fastSlot = await server.waitFor('"serve fast body": "probe"', 0);
  console.log(
    `RESULT ${version}: "serve fast body" slot ${fastSlot ? "present" : "absent"}; ` +
      `inner slot body ${
        await server.waitFor('streamOrStatic.body: "probe"', 0) ? "present" : "absent"
      }; ${framing.join("; ")}`,
  );
  server.signal("SIGKILL");
  process.exit(0);
}
