// End-to-end shutdown behaviour of examples/demo.ts on Node (@hono/node-server), as real clients
// see it: the demo runs as a child process on each Node binary of tests/integration/_node.ts and
// gets real signals.
//
//   node_modules/.bin/deno test --allow-all tests/integration/node_test.ts
//
// GRACEFUL_NODE picks the binaries (comma-separated); unset, the cached node-22/node-24 installs.
// With none found the tests are skipped, loudly; .ci/run installs both so that CI never skips.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn, spawnSync } from "node:child_process";
import { after, afterEach, describe, it } from "node:test";
import tls from "node:tls";
import {
  assertExit,
  cleanup,
  ClosedBeforeResponse,
  connectError,
  curl,
  hasClose,
  openTicking,
  outcomeOf,
  PINNED_BINARIES,
  RawConnection,
  readAll,
  requestHead,
  ROOT,
  send,
  sleep,
  startProcess,
  within,
} from "./_harness.ts";
import { h2loadAcrossSigterm, reapLaunched, runTool } from "./_launch.ts";
import { cleanupNode, nodeBinaries, type NodeBinary, nodeLeftOut, startNodeDemo } from "./_node.ts";
import { removeCertificate, tlsEnv } from "./_tls.ts";

const BOUNDED = { timeout: 15_000 };

/**
 * Runs tests/integration/_ws_client.ts on the pinned Deno against `url` with `sockets` sockets:
 * `ready` once each got its echo, `done` with every JSON line it printed once all closed.
 */
function wsClient(
  url: string,
  sockets: number,
): { ready: Promise<void>; done: Promise<Record<string, unknown>[]> } {
  const child = spawn(PINNED_BINARIES.deno, [
    "run",
    "--allow-net",
    "--allow-env",
    "tests/integration/_ws_client.ts",
    url,
    String(sockets),
  ], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const ready = Promise.withResolvers<void>();
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => (stderr += text));
  child.stdout!.on("data", (text: string) => {
    stdout += text;
    if (/^ready$/m.test(stdout)) ready.resolve();
  });
  const done = new Promise<Record<string, unknown>[]>((resolve, reject) => {
    child.on("close", (code) => {
      ready.reject(new Error(`the client ended before ready: ${stdout}${stderr}`));
      if (code !== 0) reject(new Error(`the client exited ${code}: ${stderr}`));
      else resolve(stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)));
    });
  });
  ready.promise.catch(() => {});
  return { ready: ready.promise, done };
}

const found = nodeBinaries();
// GRACEFUL_ONLY names the runtimes tested (npm run test:compat runs one line at a time).
const skip = typeof found === "string" ? found : nodeLeftOut();
const binaries = skip === false && typeof found !== "string" ? found : [];
if (skip !== false) console.error(`\n*** SKIPPING the Node integration tests: ${skip} ***\n`);
else {console.error(`Node servers run on: ${
    binaries.map((b) => `${b.version} (${b.path})`).join(", ")
  }`);}

if (skip !== false) {
  describe("node", { skip }, () => {
    it("runs the demo on Node", () => {});
  });
}

for (const node of binaries) {
  describe(`node ${node.version}`, () => {
    afterEach(() => {
      cleanupNode();
      cleanup();
    });
    after(cleanupNode);

    it("exits 0 on SIGTERM when idle", BOUNDED, async () => {
      const demo = await startNodeDemo(node);
      demo.kill("SIGTERM");
      assertExit(await demo.waitForExit(5_000), 0, demo);
      assert.match(demo.stderr(), /shutdown started \(SIGTERM received\): 0 in flight/);
      assert.match(demo.stderr(), /cleanup hook: closing resources/);
    });

    it(
      "lets an in-flight GET /slow finish with connection: close, then exits 0",
      BOUNDED,
      async () => {
        const demo = await startNodeDemo(node);
        const requestedAt = performance.now();
        const client = curl(demo.port, "/slow?ms=1500");
        await sleep(300);
        demo.kill("SIGTERM");
        const response = await client;
        const answeredAt = performance.now();
        const exit = await demo.waitForExit(5_000);

        assert.equal(response.exitCode, 0, `curl failed: ${response.error}`);
        assert.equal(response.status, 200);
        assert.equal(response.body, "slept 1500 ms");
        assert.ok(hasClose(response.headers.get("connection")), "no connection: close header");
        assertExit(exit, 0, demo);
        assert.match(demo.stderr(), /shutdown started \(SIGTERM received\): 1 in flight/);
        assert.match(demo.stderr(), /1 completed, 0 cut/);
        assert.ok(exit.at - requestedAt >= 1_400, `exited ${exit.at - requestedAt} ms after`);
        assert.ok(exit.at - answeredAt < 1_000, `exited ${exit.at - answeredAt} ms after answer`);
      },
    );

    it("refuses new connections while an in-flight request drains", BOUNDED, async () => {
      const demo = await startNodeDemo(node);
      const slow = await send(demo.port, "GET", "/slow?ms=1500");
      await sleep(300);
      demo.kill("SIGTERM");
      await demo.waitForStderr("closing the listener");
      await sleep(100);

      assert.equal(await connectError(demo.port), "ECONNREFUSED");
      assert.equal(demo.hasExited, false, "refused by a live, draining process");
      const response = await slow.response();
      assert.equal(response.status, 200);
      assert.equal(Buffer.from(response.body).toString(), "slept 1500 ms");
      assertExit(await demo.waitForExit(5_000), 0, demo);
    });

    it(
      "closes an idle keep-alive connection at once when the listener closes",
      BOUNDED,
      async () => {
        const demo = await startNodeDemo(node);
        const idle = await send(demo.port, "GET", "/");
        const first = await idle.response();
        assert.equal(first.status, 200);
        assert.equal(hasClose(first.headers.get("connection")), false, "keep-alive while serving");
        // Keeps the process draining, so that the close comes from the listener, not the exit.
        const slow = await send(demo.port, "GET", "/slow?ms=1500");
        await sleep(100);
        const signalledAt = demo.kill("SIGTERM");
        const closed = await idle.closed;

        assert.equal(closed.error, null, "closed with a FIN");
        assert.ok(closed.at - signalledAt < 1_000, `closed ${closed.at - signalledAt} ms later`);
        assert.equal(demo.hasExited, false);
        assert.equal((await slow.response()).status, 200);
        assertExit(await demo.waitForExit(5_000), 0, demo);
      },
    );

    it(
      "answers a keep-alive request in the lame-duck delay with connection: close, then closes",
      BOUNDED,
      async () => {
        const demo = await startNodeDemo(node, { DRAIN_DELAY_MS: "1000" });
        const reused = await send(demo.port, "GET", "/");
        assert.equal((await reused.response()).status, 200);
        demo.kill("SIGTERM");
        await demo.waitForStderr("lame duck");
        await reused.write(requestHead("GET", "/"));
        const outcome = await outcomeOf(reused);
        const answeredAt = performance.now();

        assert.ok(!(outcome instanceof ClosedBeforeResponse), `${outcome}`);
        assert.equal(outcome.status, 200);
        assert.equal(Buffer.from(outcome.body).toString(), "ok");
        assert.ok(hasClose(outcome.headers.get("connection")), "no connection: close header");
        const closed = await reused.closed;
        assert.equal(closed.error, null);
        // Node honours the header: the connection ends right after the response.
        assert.ok(closed.at - answeredAt < 500, `closed ${closed.at - answeredAt} ms later`);
        assertExit(await demo.waitForExit(5_000), 0, demo);
      },
    );

    it(
      "lets a keep-alive stream begun before SIGTERM finish, then lets go of its connection",
      BOUNDED,
      async () => {
        const demo = await startNodeDemo(node);
        const stream = await send(demo.port, "GET", "/stream?chunks=8&ms=100");
        await stream.until((text) => text.includes("chunk 1\n"));
        const signalledAt = demo.kill("SIGTERM");
        const response = await stream.response();
        const closed = await stream.closed;
        const exit = await demo.waitForExit(5_000);

        const expected = Array.from({ length: 8 }, (_, i) => `chunk ${i}\n`).join("");
        assert.equal(Buffer.from(response.body).toString(), expected);
        assert.equal(closed.error, null);
        assertExit(exit, 0, demo);
        // The headers went out before the drain (keep-alive): the connection is closed once idle,
        // not after Node's keep-alive timeout (5 s).
        assert.ok(exit.at - signalledAt < 2_500, `exited ${exit.at - signalledAt} ms after`);
      },
    );

    it(
      "ends an endless SSE stream with the retry frame, cleanly, then exits 0",
      BOUNDED,
      async () => {
        const demo = await startNodeDemo(node);
        const { reader, text } = await openTicking(demo.port, "/sse-raw");
        const signalledAt = demo.kill("SIGTERM");
        const end = await readAll(reader, text);
        const endedAfter = performance.now() - signalledAt;
        const exit = await demo.waitForExit(5_000);

        assert.equal(end.error, undefined, `the body did not end cleanly: ${end.error}`);
        assert.match(end.text, /\n\nretry: 1000\n\n$/, "the last frame is the retry hint");
        const frames = end.text.split("\n\n").filter((f) => f !== "");
        assert.ok(
          frames.slice(1, -1).every((f) => /^id: \d+\nevent: tick\ndata: raw \d+$/.test(f)),
          `only whole tick events before the final frame: ${JSON.stringify(end.text)}`,
        );
        assert.ok(endedAfter >= 200 && endedAfter < 2_000, `ended ${endedAfter} ms after SIGTERM`);
        assertExit(exit, 0, demo);
        assert.match(demo.stderr(), /ending 1 SSE stream\(s\) with a final frame/);
        assert.match(demo.stderr(), /\/sse-raw source cancelled/, "the handler's cleanup ran");
      },
    );

    it(
      "ends a cooperative SSE stream with its own shutdown event, then exits 0",
      BOUNDED,
      async () => {
        const demo = await startNodeDemo(node);
        const { reader, text } = await openTicking(demo.port, "/sse");
        demo.kill("SIGTERM");
        const end = await readAll(reader, text);
        const exit = await demo.waitForExit(5_000);

        assert.equal(end.error, undefined, `the body did not end cleanly: ${end.error}`);
        assert.match(end.text, /event: shutdown\ndata: server is shutting down\nretry: 1000\n\n$/);
        assertExit(exit, 0, demo);
      },
    );

    it(
      "answers a handler that never answers with 503 at the deadline and exits 1",
      BOUNDED,
      async () => {
        const demo = await startNodeDemo(node, { SHUTDOWN_TIMEOUT_MS: "1000" });
        const hang = await send(demo.port, "GET", "/hang");
        await sleep(200);
        const signalledAt = demo.kill("SIGTERM");
        const exit = await demo.waitForExit(8_000);
        const outcome = await outcomeOf(hang);

        assertExit(exit, 1, demo);
        const afterSignal = exit.at - signalledAt;
        assert.ok(afterSignal >= 950 && afterSignal < 3_000, `exited ${afterSignal} ms after`);
        assert.match(demo.stderr(), /deadline reached after \d+ ms: cutting 1 handler\(s\)/);
        assert.match(demo.stderr(), /0 completed, 1 cut/);
        assert.ok(!(outcome instanceof ClosedBeforeResponse), `no 503: ${outcome}`);
        assert.equal(outcome.status, 503);
        assert.equal(
          Buffer.from(outcome.body).toString(),
          "Service Unavailable: the server is shutting down\n",
        );
      },
    );

    it("cuts a finite stream still running at the deadline and exits 1", BOUNDED, async () => {
      const demo = await startNodeDemo(node, { SHUTDOWN_TIMEOUT_MS: "1000" });
      const stream = await send(demo.port, "GET", "/stream?chunks=100&ms=100");
      await stream.until((text) => text.includes("chunk 1\n"));
      const signalledAt = demo.kill("SIGTERM");
      const closed = await stream.closed;
      const exit = await demo.waitForExit(8_000);

      assertExit(exit, 1, demo);
      assert.ok(closed.at - signalledAt < 2_500, `cut ${closed.at - signalledAt} ms after`);
      assert.ok(!stream.text.includes("chunk 99"), "the stream ran to its end");
      assert.match(demo.stderr(), /0 completed, 1 cut/);
      // Node can close it from outside: the connection went before the process did.
      assert.doesNotMatch(demo.stderr(), /still open after the cut/);
    });

    it("exits at once with 143 on a second SIGTERM a second into the drain", BOUNDED, async () => {
      const demo = await startNodeDemo(node);
      const hang = await send(demo.port, "GET", "/hang");
      await sleep(100);
      demo.kill("SIGTERM");
      await demo.waitForStderr("shutdown started");
      demo.kill("SIGTERM");
      await demo.waitForStderr("shutdown under way continues");
      await sleep(1_100);
      assert.equal(demo.hasExited, false, "a copy within a second is not a second signal");
      const secondAt = demo.kill("SIGTERM");
      const exit = await demo.waitForExit(5_000);

      assertExit(exit, 143, demo);
      assert.ok(exit.at - secondAt < 1_000, `exited ${exit.at - secondAt} ms after`);
      assert.match(demo.stderr(), /SIGTERM received again .*exiting now with 143/);
      await hang.closed;
    });

    it(
      "tells WebSocket clients (@hono/node-ws) goodbye, closes them with 1001, then exits 0",
      BOUNDED,
      async () => {
        const demo = await startNodeDemo(node);
        const client = wsClient(`ws://127.0.0.1:${demo.port}/ws`, 3);
        await within(client.ready, 5_000, "the clients' echoes");
        const signalledAt = demo.kill("SIGTERM");
        const exit = await demo.waitForExit(5_000);
        const events = await within(client.done, 5_000, "the clients to see the close");

        for (const socket of [0, 1, 2]) {
          assert.deepEqual(
            events.filter((event) => event.socket === socket),
            [
              { socket, message: "server is shutting down" },
              { socket, code: 1001, reason: "server shutting down", clean: true },
            ],
            demo.stderr(),
          );
        }
        assertExit(exit, 0, demo);
        const exitedAfter = exit.at - signalledAt;
        assert.ok(exitedAfter >= 200 && exitedAfter < 3_000, `exited after ${exitedAfter} ms`);
        assert.match(demo.stderr(), /shutdown started \(SIGTERM received\): 3 in flight/);
        assert.match(demo.stderr(), /closing 3 WebSocket\(s\) with 1001/);
        assert.match(demo.stderr(), /3 completed, 0 cut/);
        assert.equal(demo.stderr().match(/\[demo\] \/ws closed with 1001/g)?.length, 3);
      },
    );

    it(
      "drops a WebSocket whose client never answers the close at the deadline, then exits 1",
      BOUNDED,
      async () => {
        const demo = await startNodeDemo(node, { SHUTDOWN_TIMEOUT_MS: "1500" });
        const raw = await RawConnection.connect(demo.port);
        await raw.write(requestHead("GET", "/ws", {
          Upgrade: "websocket",
          Connection: "Upgrade",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version": "13",
        }));
        await raw.until((text) => text.includes("\r\n\r\n"));
        assert.match(raw.text, /^HTTP\/1\.1 101 /);
        const signalledAt = demo.kill("SIGTERM");
        const closed = await raw.closed;
        const exit = await demo.waitForExit(5_000);

        assertExit(exit, 1, demo);
        const closedAfter = closed.at - signalledAt;
        assert.ok(closedAfter >= 1_400 && closedAfter < 3_000, `closed after ${closedAfter} ms`);
        assert.match(
          demo.stderr(),
          /cutting 0 handler\(s\), 0 response body\(ies\) and 1 WebSocket/,
        );
        // Dropped by the library, not by the exit: Node's close() waits for upgraded sockets.
        assert.doesNotMatch(demo.stderr(), /still open after the cut/);
      },
    );

    it("answers POST /shutdown with 202, then exits 0", BOUNDED, async () => {
      const demo = await startNodeDemo(node);
      const response = await curl(demo.port, "/shutdown", ["-X", "POST"]);
      const exit = await demo.waitForExit(5_000);

      assert.equal(response.status, 202);
      assert.ok(hasClose(response.headers.get("connection")), "no connection: close header");
      assertExit(exit, 0, demo);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP/2 over TLS (serve({ tls, http2: true }) and g.attach() of an Http2SecureServer), and
// listen errors

/** What tests/fixtures/node_http2_client.mjs printed. */
interface H2ClientResult {
  goaway: { code: number; lastStreamID: number }[];
  streams: { id: number; status: number; body: string; rstCode: number; error: string | null }[];
  late?: { stream: string; connection: string };
}

/** tests/fixtures/node_http2_client.mjs on `node`: `count` streams for `path` on one session. */
function h2Client(
  node: NodeBinary,
  port: number,
  count: number,
  path: string,
  env: Record<string, string> = {},
): { connected: Promise<void>; result: Promise<H2ClientResult> } {
  const client = runTool(node.path, [
    "tests/fixtures/node_http2_client.mjs",
    `https://127.0.0.1:${port}`,
    String(count),
    path,
  ], env);
  const result = within(client.done, 10_000, "the node http2 client").then((done) => {
    assert.equal(done.code, 0, `node client failed: ${done.stdout}${done.stderr}`);
    return JSON.parse(done.stdout.trim().split("\n").at(-1) ?? "") as H2ClientResult;
  });
  result.catch(() => {});
  return { connected: client.stdout.waitFor("connected\n", 5_000, "node client"), result };
}

/** Headers that RFC 9113 §8.2.2 forbids in HTTP/2. */
const CONNECTION_SPECIFIC = ["connection", "keep-alive", "proxy-connection", "transfer-encoding"];

const H2_TOOLS = ["openssl", "h2load", "nghttp", "stdbuf", "curl"];
const missingTools = H2_TOOLS.filter((tool) =>
  spawnSync(tool, [tool === "openssl" ? "version" : "--version"], { stdio: "ignore" }).status !== 0
);
const skipH2 = missingTools.length === 0 || process.env.CI
  ? false
  : `${
    missingTools.join(", ")
  } missing: the Node HTTP/2 tests are SKIPPED (apt-get install -y nghttp2-client openssl curl; with CI set they fail)`;
if (skipH2 && binaries.length > 0) console.error(`\n!!! ${skipH2} !!!\n`);

for (const node of binaries) {
  describe(`node ${node.version}: HTTP/2 over TLS, serve({ tls, http2: true })`, {
    skip: skipH2,
  }, () => {
    afterEach(() => {
      reapLaunched();
      cleanupNode();
    });
    after(removeCertificate);
    const h2Demo = (env: Record<string, string> = {}) =>
      startNodeDemo(node, { ...tlsEnv(), HTTP2: "1", ...env });

    it(
      "negotiates h2 and finishes 25 parallel streams on one connection after SIGTERM, then exits 0",
      BOUNDED,
      async () => {
        await h2loadAcrossSigterm(await h2Demo());
      },
    );

    it(
      "sends GOAWAY: streams in flight finish, a later stream and connection are refused, HTTP/1.1 on the same port gets connection: close",
      BOUNDED,
      async () => {
        const demo = await h2Demo();
        const nghttp = runTool("stdbuf", [
          "-oL",
          "nghttp",
          "-v",
          `https://127.0.0.1:${demo.port}/slow?ms=1500`,
        ]);
        const client = h2Client(node, demo.port, 2, "/slow?ms=1500", { LATE: "1" });
        const http1 = runTool("curl", [
          "-sk",
          "--http1.1",
          "-i",
          `https://127.0.0.1:${demo.port}/slow?ms=1500`,
        ]);
        await client.connected;
        await nghttp.stdout.waitFor("send HEADERS frame", 5_000, "nghttp sending its request");
        await sleep(300);
        demo.kill("SIGTERM");
        const result = await client.result;
        const viewed = await within(nghttp.done, 5_000, "nghttp");
        const curled = await within(http1.done, 5_000, "curl --http1.1");
        const exit = await demo.waitForExit(5_000);

        assert.ok(result.goaway.length > 0, "no GOAWAY reached the Node client");
        assert.equal(result.goaway[0]!.code, 0, "GOAWAY with NO_ERROR");
        for (const stream of result.streams) {
          assert.deepEqual(
            { status: stream.status, body: stream.body, rstCode: stream.rstCode },
            { status: 200, body: "slept 1500 ms", rstCode: 0 },
            JSON.stringify(result),
          );
        }
        // After the GOAWAY: a stream on the session is refused (the server never processes it:
        // "4 completed" below counts nghttp's, curl's and the client's first two; the server sends
        // nothing for it, the client's nghttp2 reports it refused), and a new connection finds the
        // listener closed, so a client retries elsewhere.
        assert.match(result.late!.stream, /REFUSED_STREAM|ERR_HTTP2_GOAWAY_SESSION/);
        assert.equal(result.late!.connection, "ECONNREFUSED");

        const output = viewed.stdout + viewed.stderr;
        assert.equal(viewed.code, 0, output);
        assert.match(
          output,
          /recv GOAWAY frame <[^>]*>\s*\(last_stream_id=\d+, error_code=NO_ERROR/,
        );
        assert.match(output, /recv \(stream_id=\d+\) :status: 200/);
        assert.match(output, /slept 1500 ms/);
        // nghttp2 rejects a response with a connection-specific header as malformed.
        for (const name of CONNECTION_SPECIFIC) {
          assert.doesNotMatch(output, new RegExp(`recv \\(stream_id=\\d+\\) ${name}:`), output);
        }
        assert.doesNotMatch(output, /Invalid HTTP header field|PROTOCOL_ERROR/);

        assert.equal(curled.code, 0, curled.stderr);
        assert.match(curled.stdout, /^HTTP\/1\.1 200 /);
        assert.match(curled.stdout, /^connection: close\r$/im, curled.stdout);
        assert.match(curled.stdout, /slept 1500 ms$/);

        assertExit(exit, 0, demo);
        assert.match(demo.stderr(), /4 completed, 0 cut/);
        assert.doesNotMatch(demo.stderr(), /UnsupportedWarning|connection header/i);
      },
    );

    it(
      "closes an idle HTTP/1.1 keep-alive connection on the HTTP/2 port when the listener closes",
      BOUNDED,
      async () => {
        const demo = await h2Demo();
        const socket = tls.connect({
          host: "127.0.0.1",
          port: demo.port,
          ALPNProtocols: ["http/1.1"],
          rejectUnauthorized: false,
        });
        let text = "";
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => (text += chunk));
        const closed = new Promise<number>((resolve) =>
          socket.on("close", () => resolve(performance.now()))
        );
        socket.on("error", () => {});
        await new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
        assert.equal(socket.alpnProtocol, "http/1.1");
        socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        while (!text.endsWith("ok")) await sleep(20);
        assert.match(text, /^HTTP\/1\.1 200 /);
        assert.doesNotMatch(text, /^connection: close\r$/im, "keep-alive while serving");
        // Keeps the process draining, so that the close comes from the listener, not the exit.
        const slow = h2Client(node, demo.port, 1, "/slow?ms=1500");
        await slow.connected;
        await sleep(200);
        const signalledAt = demo.kill("SIGTERM");
        const closedAt = await within(closed, 3_000, "the idle connection to close");

        assert.ok(closedAt - signalledAt < 1_000, `closed ${closedAt - signalledAt} ms later`);
        assert.equal(demo.hasExited, false, "closed by the listener close, not the exit");
        assert.equal((await slow.result).streams[0]!.body, "slept 1500 ms");
        assertExit(await demo.waitForExit(5_000), 0, demo);
      },
    );

    it(
      "cuts a hanging h2 stream with 503 and a running one with RST_STREAM at the deadline, then exits 1",
      BOUNDED,
      async () => {
        const demo = await h2Demo({ SHUTDOWN_TIMEOUT_MS: "1000" });
        const hang = h2Client(node, demo.port, 1, "/hang");
        const stream = h2Client(node, demo.port, 1, "/stream?chunks=100&ms=100");
        await Promise.all([hang.connected, stream.connected]);
        await sleep(300);
        const signalledAt = demo.kill("SIGTERM");
        const exit = await demo.waitForExit(8_000);
        const [hung, streamed] = await Promise.all([hang.result, stream.result]);

        assertExit(exit, 1, demo);
        const afterSignal = exit.at - signalledAt;
        assert.ok(afterSignal >= 950 && afterSignal < 3_000, `exited ${afterSignal} ms after`);
        assert.match(
          demo.stderr(),
          /deadline reached after \d+ ms: cutting 1 handler\(s\), 1 response body\(ies\)/,
        );
        assert.match(demo.stderr(), /0 completed, 2 cut/);
        assert.deepEqual(
          { status: hung.streams[0]!.status, body: hung.streams[0]!.body },
          { status: 503, body: "Service Unavailable: the server is shutting down\n" },
        );
        assert.equal(streamed.streams[0]!.status, 200);
        assert.notEqual(streamed.streams[0]!.rstCode, 0, JSON.stringify(streamed));
        assert.ok(!streamed.streams[0]!.body.includes("chunk 99"), "the stream ran to its end");
        // The 503 went out without the Connection: close HTTP/2 forbids (Node would warn).
        assert.doesNotMatch(demo.stderr(), /UnsupportedWarning|connection header/i);
      },
    );

    it(
      "g.attach() of an Http2SecureServer from createAdaptorServer: GOAWAY, streams finish, exits 0",
      BOUNDED,
      async () => {
        const server = await startProcess(
          `node ${node.version}`,
          [node.path, "tests/fixtures/node_http2_attach.ts"],
          tlsEnv(),
        );
        const client = h2Client(node, server.port, 3, "/slow?ms=1500", { LATE: "1" });
        const http1 = runTool("curl", [
          "-sk",
          "--http1.1",
          "-i",
          `https://127.0.0.1:${server.port}/slow?ms=1500`,
        ]);
        await client.connected;
        await sleep(300);
        server.kill("SIGTERM");
        const result = await client.result;
        const curled = await within(http1.done, 5_000, "curl --http1.1");
        const exit = await server.waitForExit(5_000);

        assert.equal(result.goaway[0]?.code, 0, JSON.stringify(result));
        for (const stream of result.streams) {
          assert.deepEqual(
            { status: stream.status, body: stream.body },
            { status: 200, body: "slept 1500 ms" },
            JSON.stringify(result),
          );
        }
        assert.match(result.late!.stream, /REFUSED_STREAM|ERR_HTTP2_GOAWAY_SESSION/);
        assert.match(curled.stdout, /^connection: close\r$/im, curled.stdout);
        assert.match(curled.stdout, /slept 1500 ms$/);
        assertExit(exit, 0, server);
      },
    );
  });

  describe(`node ${node.version}: listening`, () => {
    afterEach(() => {
      reapLaunched();
      cleanupNode();
    });

    it(
      "reports an address in use with its host and port, and exits 1 without a stack",
      BOUNDED,
      async () => {
        const first = await startNodeDemo(node);
        const second = runTool(node.path, ["examples/demo.ts"], {
          PORT: String(first.port),
          HOSTNAME: "127.0.0.1",
        });
        const ended = await within(second.done, 10_000, "the second demo to exit");

        assert.equal(ended.code, 1, ended.stderr);
        assert.match(
          ended.stderr,
          new RegExp(
            `^\\[graceful\\] error: serve\\(\\): cannot listen on 127\\.0\\.0\\.1:${first.port}: ` +
              `listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${first.port}$`,
            "m",
          ),
        );
        // A report, not Node's unhandled 'error' event with its stack.
        assert.doesNotMatch(ended.stderr, /Emitted 'error' event|^\s+at /m);
        assert.doesNotMatch(ended.stdout, /listening on/);
        first.kill("SIGTERM");
        assertExit(await first.waitForExit(5_000), 0, first);
      },
    );

    it(
      "finds the body cache of @hono/node-server's Response (the response path skips its headers)",
      BOUNDED,
      async () => {
        const script = [
          'import { createAdaptorServer } from "@hono/node-server";',
          'import { _nodeBodyCache } from "./src/runtime/node/respond.ts";',
          "const before = _nodeBodyCache(globalThis.Response);",
          "createAdaptorServer({ fetch: () => new Response('ok') });",
          "const after = _nodeBodyCache(globalThis.Response);",
          "console.log(JSON.stringify({ before: String(before), after: String(after) }));",
        ].join("\n");
        const run = runTool(node.path, ["--input-type=module", "-e", script]);
        const ended = await within(run.done, 10_000, "the script");

        assert.equal(ended.code, 0, ended.stderr);
        // Node's own Response has no such cache; @hono/node-server's, installed with its first
        // server, has: if a release changes it, this fails and every response is read in full.
        assert.deepEqual(JSON.parse(ended.stdout), { before: "null", after: "Symbol(cache)" });
      },
    );

    it("knows the bound port once onListen runs (the asked one before)", BOUNDED, async () => {
      const script = [
        'import { serve } from "./mod.ts";',
        "const server = serve(() => new Response('ok'), {",
        "  port: 0, hostname: '127.0.0.1', signals: [], exit: false, logger: false,",
        "  onListen: ({ port, url }) => {",
        "    console.log(JSON.stringify({ onListen: port, url: url.href, server: server.port }));",
        "    server.shutdown();",
        "  },",
        "});",
        "console.log(JSON.stringify({ returned: server.port }));",
      ].join("\n");
      const run = runTool(node.path, ["--input-type=module", "-e", script]);
      const ended = await within(run.done, 10_000, "the script");

      assert.equal(ended.code, 0, ended.stderr);
      const [returned, listened] = ended.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(returned, { returned: 0 });
      assert.ok(listened.onListen > 0, ended.stdout);
      assert.equal(listened.server, listened.onListen);
      assert.equal(listened.url, `http://127.0.0.1:${listened.onListen}/`);
    });
  });
}
