// End-to-end shutdown behaviour of examples/demo.ts, on Deno and on Bun, as real clients see it.
// Each test starts the demo as a child process on port 0, sends it real signals, and checks the
// exit code, what the client received, and loose timing bounds (timing claims are benchmarks).
//
//   node_modules/.bin/deno test --allow-all tests/integration
//
// GRACEFUL_DENO / GRACEFUL_BUN pick the binaries the demo runs on, GRACEFUL_ONLY=deno|bun the
// runtimes tested (tests/integration/_harness.ts; npm run test:compat sets them).

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { after, afterEach, describe, it } from "node:test";
import {
  assertExit,
  cleanup,
  ClosedBeforeResponse,
  connectError,
  curl,
  hasClose,
  outcomeOf,
  publicDenoPath,
  type RawResponse,
  readAll,
  requestHead,
  runtimeLabel,
  RUNTIMES,
  send,
  sha256,
  sleep,
  startDemo,
} from "./_harness.ts";
import { http1Behaviour } from "./_runtime_probes.ts";

/** Every test is bounded; the slowest takes about 3 s. */
const BOUNDED = { timeout: 15_000 };

/** The demo's default shutdown deadline (SHUTDOWN_TIMEOUT_MS unset). */
const DEFAULT_DEADLINE_MS = 10_000;

function assertNotPartial(outcome: RawResponse | ClosedBeforeResponse, what: string): void {
  if (outcome instanceof ClosedBeforeResponse) {
    assert.equal(outcome.bytes, 0, `${what}: partial response, then closed: ${outcome.message}`);
  } else {
    assert.ok(
      hasClose(outcome.headers.get("connection")),
      `${what}: response without connection: close (${outcome.headers.get("connection")})`,
    );
  }
}

for (const runtime of RUNTIMES) {
  describe(runtimeLabel(runtime), () => {
    afterEach(cleanup);
    after(cleanup);

    // a. idle shutdown
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      it(`exits 0 on ${signal} when idle and logs every phase`, BOUNDED, async () => {
        const demo = await startDemo(runtime);
        demo.kill(signal);
        const exit = await demo.waitForExit(5_000);
        assertExit(exit, 0, demo);
        const stderr = demo.stderr();
        assert.match(stderr, new RegExp(`${signal} received`));
        assert.match(stderr, /shutdown started \(.*\): 0 in flight/);
        assert.match(stderr, /drained in \d+ ms/);
        assert.match(stderr, /\[demo\] cleanup hook/);
        assert.match(stderr, /shutdown complete in \d+ ms: 0 completed, 0 cut, 1\/1 hooks ok/);
        // The phases come in order.
        const phases = ["shutdown started", "drained", "cleanup hook", "shutdown complete"];
        const positions = phases.map((phase) => stderr.indexOf(phase));
        assert.deepEqual(positions, [...positions].sort((x, y) => x - y), stderr);
      });
    }

    // b. in-flight request
    it(
      "lets an in-flight GET /slow finish with connection: close, then exits 0",
      BOUNDED,
      async () => {
        const demo = await startDemo(runtime);
        const requestedAt = performance.now();
        const client = curl(demo.port, "/slow?ms=1500");
        await sleep(300);
        const signalledAt = demo.kill("SIGTERM");
        const response = await client;
        const answeredAt = performance.now();
        const exit = await demo.waitForExit(5_000);

        assert.equal(response.exitCode, 0, `curl failed: ${response.error}`);
        assert.equal(response.status, 200);
        assert.equal(response.body, "slept 1500 ms");
        assert.ok(hasClose(response.headers.get("connection")), "no connection: close header");
        assertExit(exit, 0, demo);
        // The request really was in flight when the shutdown began.
        assert.match(demo.stderr(), /shutdown started \(SIGTERM received\): 1 in flight/);
        assert.match(demo.stderr(), /1 completed, 0 cut/);
        // The process waited for the handler (1.5 s; the signal came at 0.3 s)...
        assert.ok(
          exit.at - requestedAt >= 1_400,
          `exited ${exit.at - requestedAt} ms after request`,
        );
        // ...and exited promptly after the response, far from the deadline.
        assert.ok(exit.at - answeredAt < 1_000, `exited ${exit.at - answeredAt} ms after response`);
        assert.ok(exit.at - signalledAt < DEFAULT_DEADLINE_MS / 2);
      },
    );

    // c. listener closed during the drain
    it("refuses new connections while an in-flight request drains", BOUNDED, async () => {
      const demo = await startDemo(runtime);
      const slow = await send(demo.port, "GET", "/slow?ms=1500");
      await sleep(300);
      demo.kill("SIGTERM");
      await demo.waitForStderr("closing the listener");
      // Deno 2.9.5 closes the listener a few ms after shutdown() returned (and the library logged
      // "listener closed"); a connection in that window is accepted, then reset with 0 bytes.
      await sleep(100);

      assert.equal(await connectError(demo.port), "ECONNREFUSED");
      const refused = await curl(demo.port, "/", [], 3);
      assert.equal(refused.exitCode, 7, `curl should fail to connect: ${refused.error}`);
      // Refused by a live process that is still draining, not by a dead one.
      assert.equal(demo.hasExited, false);

      const response = await slow.response();
      assert.equal(response.status, 200);
      assert.equal(Buffer.from(response.body).toString(), "slept 1500 ms");
      assertExit(await demo.waitForExit(5_000), 0, demo);
    });

    // d. finite stream
    it(
      "delivers every line of a finite stream started before SIGTERM, then exits 0",
      BOUNDED,
      async () => {
        const demo = await startDemo(runtime);
        const response = await fetch(`http://127.0.0.1:${demo.port}/stream?chunks=10&ms=100`);
        assert.equal(response.status, 200);
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        const first = await reader.read();
        assert.equal(first.value, "chunk 0\n");
        demo.kill("SIGTERM");
        const { text, error } = await readAll(reader, first.value!);
        const exit = await demo.waitForExit(5_000);

        assert.equal(error, undefined, `the stream did not end cleanly: ${error}`);
        const expected = Array.from({ length: 10 }, (_, i) => `chunk ${i}\n`).join("");
        assert.equal(text, expected);
        assertExit(exit, 0, demo);
        // On Deno's public-API path a body streamed before the signal is Deno's to finish.
        const counted = publicDenoPath(runtime) ? 0 : 1;
        assert.match(
          demo.stderr(),
          new RegExp(`shutdown started \\(SIGTERM received\\): ${counted} in flight`),
        );
      },
    );

    // e. cooperative SSE
    it(
      "ends an SSE stream with a final shutdown event and exits 0 long before the deadline",
      BOUNDED,
      async () => {
        const demo = await startDemo(runtime);
        const response = await fetch(`http://127.0.0.1:${demo.port}/sse`);
        assert.equal(response.status, 200);
        assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while ((text.match(/^event: tick$/gm) ?? []).length < 2) {
          const { value, done } = await reader.read();
          assert.equal(done, false, `the SSE stream ended before the shutdown: ${text}`);
          text += value;
        }
        const signalledAt = demo.kill("SIGTERM");
        const end = await readAll(reader, text);
        const exit = await demo.waitForExit(5_000);

        assert.equal(end.error, undefined, `the SSE body did not end cleanly: ${end.error}`);
        const events = end.text.split("\n\n").filter((frame) => frame !== "").map((frame) =>
          /^event: (.*)$/m.exec(frame)?.[1]
        );
        assert.ok(events.length >= 3, end.text);
        assert.deepEqual(events.slice(0, -1), events.slice(0, -1).map(() => "tick"), end.text);
        assert.equal(events.at(-1), "shutdown", end.text);
        assert.match(end.text, /event: shutdown\ndata: server is shutting down\nretry: 1000\n\n$/);
        assertExit(exit, 0, demo);
        assert.ok(
          exit.at - signalledAt < 3_000,
          `exited ${exit.at - signalledAt} ms after SIGTERM`,
        );
      },
    );

    // f. deadline
    it("cuts a handler that never answers at the deadline and exits 1", BOUNDED, async () => {
      const demo = await startDemo(runtime, { SHUTDOWN_TIMEOUT_MS: "1000" });
      const hang = await send(demo.port, "GET", "/hang");
      await sleep(200);
      const signalledAt = demo.kill("SIGTERM");
      const exit = await demo.waitForExit(8_000);
      const outcome = await outcomeOf(hang);

      assertExit(exit, 1, demo);
      const afterSignal = exit.at - signalledAt;
      assert.ok(
        afterSignal >= 950 && afterSignal < 3_000,
        `exited ${afterSignal} ms after SIGTERM`,
      );
      assert.match(demo.stderr(), /deadline reached after \d+ ms: cutting 1 handler\(s\)/);
      assert.match(demo.stderr(), /0 completed, 1 cut/);
      // The library answers a cut handler with a complete 503 (CutDetail.handlers), and lets
      // it go out before forcing the runtime (Bun's stop(true) would drop it).
      assertNotPartial(outcome, "the cut /hang request");
      assert.ok(!(outcome instanceof ClosedBeforeResponse), "no 503 for the cut request");
      if (!(outcome instanceof ClosedBeforeResponse)) {
        assert.equal(outcome.status, 503);
        assert.equal(
          Buffer.from(outcome.body).toString(),
          "Service Unavailable: the server is shutting down\n",
        );
      }
    });

    // g. second signal
    for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
      it(`exits at once with ${code} on a second ${signal} during the drain`, BOUNDED, async () => {
        const demo = await startDemo(runtime);
        const hang = await send(demo.port, "GET", "/hang");
        await sleep(100);
        demo.kill(signal);
        await demo.waitForStderr("shutdown started");
        // A copy of the same stop request (a forwarding wrapper plus the process group).
        demo.kill(signal);
        await demo.waitForStderr("shutdown under way continues");
        await sleep(1_100);
        assert.equal(demo.hasExited, false, "a copy within a second is not a second signal");
        const secondAt = demo.kill(signal);
        const exit = await demo.waitForExit(5_000);

        assertExit(exit, code, demo);
        assert.ok(
          exit.at - secondAt < 1_000,
          `exited ${exit.at - secondAt} ms after the 2nd signal`,
        );
        assert.match(
          demo.stderr(),
          new RegExp(`${signal} received again .*exiting now with ${code}`),
        );
        // The abandoned request's connection goes away with the process.
        await hang.closed;
      });
    }

    // h. shutdown from a handler
    it("answers POST /shutdown with 202, then exits 0", BOUNDED, async () => {
      const demo = await startDemo(runtime);
      const response = await curl(demo.port, "/shutdown", ["-X", "POST"]);
      const exit = await demo.waitForExit(5_000);

      assert.equal(response.exitCode, 0, `curl failed: ${response.error}`);
      assert.equal(response.status, 202);
      assert.equal(response.body, "shutting down\n");
      assert.ok(hasClose(response.headers.get("connection")), "no connection: close header");
      assertExit(exit, 0, demo);
      assert.match(demo.stderr(), /shutdown started \(POST \/shutdown\)/);
    });

    // i. upload in progress (RUNTIME_FACTS D9)
    it(
      "receives and echoes a 256 KiB upload that is still arriving at SIGTERM",
      BOUNDED,
      async () => {
        const demo = await startDemo(runtime);
        const size = 262_144;
        const body = new Uint8Array(randomBytes(size));
        const half = size / 2;
        const upload = await send(demo.port, "POST", "/echo", {
          "Content-Type": "application/octet-stream",
          "Content-Length": String(size),
        }, body.subarray(0, half));
        await sleep(100);
        demo.kill("SIGTERM");
        await demo.waitForStderr("shutdown started");
        await sleep(200);
        const piece = half / 4;
        for (let at = half; at < size; at += piece) {
          await upload.write(body.subarray(at, at + piece));
          await sleep(50);
        }
        const response = await upload.response();
        const exit = await demo.waitForExit(5_000);

        assert.equal(response.status, 200, Buffer.from(response.body).toString().slice(0, 300));
        assert.equal(response.body.length, size);
        assert.equal(sha256(response.body), sha256(body));
        assert.ok(hasClose(response.headers.get("connection")), "no connection: close header");
        assertExit(exit, 0, demo);
        assert.match(demo.stderr(), /shutdown started \(SIGTERM received\): 1 in flight/);
      },
    );

    // j. abandoned stream
    it("does not let a stream whose client left hold the drain", BOUNDED, async () => {
      const demo = await startDemo(runtime);
      const stream = await send(demo.port, "GET", "/stream?chunks=100&ms=100");
      await stream.until((text) => text.includes("chunk 1\n"));
      stream.destroy();
      const signalledAt = demo.kill("SIGTERM");
      const exit = await demo.waitForExit(5_000);

      assertExit(exit, 0, demo);
      // The stream would have run for 10 s, and the deadline is 10 s.
      assert.ok(exit.at - signalledAt < 3_000, `exited ${exit.at - signalledAt} ms after SIGTERM`);
      assert.match(demo.stderr(), /0 cut/);
    });

    // k. lame duck
    it(
      "keeps serving with connection: close during the lame-duck delay, then refuses",
      BOUNDED,
      async () => {
        const demo = await startDemo(runtime, { DRAIN_DELAY_MS: "1000" });
        // Keeps the drain open past the delay, so that refusals come from a live process.
        const readyBefore = await curl(demo.port, "/readyz", [], 3);
        assert.equal(readyBefore.status, 200, "ready while serving");
        assert.equal(readyBefore.body, "ready\n");
        const slow = await send(demo.port, "GET", "/slow?ms=2500");
        await sleep(100);
        const signalledAt = demo.kill("SIGTERM");
        await demo.waitForStderr("lame duck");

        const ready = await curl(demo.port, "/readyz", [], 3);
        const live = await curl(demo.port, "/livez", [], 3);
        const root = await curl(demo.port, "/", [], 3);
        const answeredAt = performance.now();
        assert.ok(answeredAt - signalledAt < 1_000, "the checks did not run within the delay");
        assert.equal(ready.exitCode, 0, `curl /readyz failed: ${ready.error}`);
        assert.equal(ready.status, 503);
        assert.equal(ready.body, "shutting down\n", "nothing but the state in the body");
        assert.ok(hasClose(ready.headers.get("connection")), "/readyz: no connection: close");
        assert.equal(live.status, 200, "liveness stays 200 during the drain");
        assert.equal(live.body, "ok\n");
        assert.equal(root.exitCode, 0, `curl / failed: ${root.error}`);
        assert.equal(root.status, 200);
        assert.equal(root.body, "ok");
        assert.ok(hasClose(root.headers.get("connection")), "/: no connection: close");

        await demo.waitForStderr("closing the listener");
        assert.ok(performance.now() - signalledAt >= 950, "listener closed before the delay ended");
        await sleep(100); // Deno closes the listener a few ms after the log line (see above).
        assert.equal(await connectError(demo.port), "ECONNREFUSED");
        assert.equal(demo.hasExited, false);

        const response = await slow.response();
        assert.equal(response.status, 200);
        assert.ok(hasClose(response.headers.get("connection")));
        assertExit(await demo.waitForExit(5_000), 0, demo);
      },
    );

    // l. keep-alive connection, no lame duck
    it(
      "never answers partially on a keep-alive connection reused after SIGTERM",
      BOUNDED,
      async () => {
        const { stopClosesIdleKeepAlive } = await http1Behaviour(runtime);
        const demo = await startDemo(runtime);
        const idle = await send(demo.port, "GET", "/");
        const first = await idle.response();
        assert.equal(first.status, 200);
        assert.equal(hasClose(first.headers.get("connection")), false);
        const slow = await send(demo.port, "GET", "/slow?ms=1500");
        await sleep(100);
        demo.kill("SIGTERM");
        await sleep(200);
        const closedBeforeRequest = idle.isClosed;
        // Written even if the server closed the socket already (the write then fails: EPIPE).
        await idle.write(requestHead("GET", "/")).catch(() => {});
        const outcome = await outcomeOf(idle);

        assertNotPartial(outcome, "the request sent on the keep-alive connection");
        if (stopClosesIdleKeepAlive) {
          // What Deno and Bun 1.4 do (RUNTIME_FACTS D1d, B1): closing the listener closes idle
          // keep-alive connections at once with a FIN, so the late request never reaches a handler.
          assert.equal(
            closedBeforeRequest,
            true,
            "the idle connection was still open 200 ms after SIGTERM",
          );
          assert.ok(outcome instanceof ClosedBeforeResponse);
        }
        // Bun <= 1.3.14's stop() leaves an idle keep-alive connection open and serves it until the
        // process exits (oven-sh/bun#37074): there the late request is answered in full with
        // connection: close, or meets a closed connection, never a partial answer (checked above).
        // With a FIN, not a reset.
        assert.equal((await idle.closed).error, null);

        const response = await slow.response();
        assert.equal(response.status, 200);
        assert.ok(hasClose(response.headers.get("connection")));
        assertExit(await demo.waitForExit(5_000), 0, demo);
      },
    );

    // l'. keep-alive connection during the lame duck
    it(
      "answers a keep-alive request in the lame-duck delay with connection: close, then closes the connection",
      BOUNDED,
      async () => {
        const { connectionCloseHeaderCloses } = await http1Behaviour(runtime);
        const demo = await startDemo(runtime, { DRAIN_DELAY_MS: "1000" });
        const reused = await send(demo.port, "GET", "/");
        assert.equal((await reused.response()).status, 200);
        const signalledAt = demo.kill("SIGTERM");
        await demo.waitForStderr("lame duck");
        await reused.write(requestHead("GET", "/"));
        const outcome = await outcomeOf(reused);
        const answeredAt = performance.now();

        assert.ok(!(outcome instanceof ClosedBeforeResponse), `${outcome}`);
        assert.equal(outcome.status, 200);
        assert.equal(Buffer.from(outcome.body).toString(), "ok");
        assert.ok(hasClose(outcome.headers.get("connection")), "no connection: close header");
        if (!connectionCloseHeaderCloses) {
          // Not closed by the header where the runtime's own server keeps it open.
          await sleep(200);
          assert.equal(reused.isClosed, false, "closed right after the answer");
        }
        const closed = await reused.closed;
        assert.equal(closed.error, null);
        if (connectionCloseHeaderCloses) {
          // The runtime honours the header and closes right after the response (Bun 1.4.5,
          // RUNTIME_FACTS B3; Deno <= 2.8.2).
          assert.ok(closed.at - answeredAt < 500, `closed ${closed.at - answeredAt} ms later`);
        } else {
          // The runtime ignores it (Deno 2.8.3+, D4; Bun <= 1.3.14): the connection goes when the
          // listener closes after the delay or, where stop() leaves idle connections open (Bun
          // <= 1.3.14, oven-sh/bun#37074), when the process exits right after.
          assert.ok(closed.at - signalledAt < 2_000, `closed ${closed.at - signalledAt} ms later`);
        }
        assertExit(await demo.waitForExit(5_000), 0, demo);
      },
    );
  });
}
