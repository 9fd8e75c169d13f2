// What Deno.serve itself decides, with real sockets in this process: its fast path for handlers
// that declare no parameters (it builds no Request and no info and calls the handler with no
// arguments; the wrapper keeps that path and still tracks what it cannot see through
// `info.completed`), and bodies streamed before the shutdown, which Deno cannot force.
//
//   node_modules/.bin/deno test --allow-all tests/integration/deno_serve_test.ts
//
// These run Deno.serve inside the test runner, so they test the runner's Deno: with GRACEFUL_DENO
// set to another release they are skipped, and npm run test:compat runs this file with that
// release's own `deno test`.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type FetchHandler, type Graceful, graceful } from "../../mod.ts";
import { _host } from "../../src/runtime/detect.ts";
import { inProcessDenoSkip } from "./_harness.ts";

const BOUNDED = { timeout: 10_000 };
const SKIP = inProcessDenoSkip();
// GRACEFUL_SERVE_INTERNALS=off: the public-API path, which cannot see a body already handed over.
const PUBLIC_ONLY = "Deno" in globalThis && _host().fallback !== undefined;
// On that path a body streamed before the shutdown is the attached server's to finish: Deno's
// shutdown waits for it, and the library neither counts it nor can cut it (docs/internals.md).
const COUNTED = PUBLIC_ONLY ? 0 : 1;
const encoder = new TextEncoder();

/** How many arguments a handler received that were not undefined, as the response body. */
const countArgs = (...args: unknown[]): Response =>
  new Response(String(args.filter((a) => a !== undefined).length));

/**
 * How many arguments a raw Deno.serve (no library) passes to a handler that declares none: 0 on
 * Deno 2.8.3+, whose fast path builds no Request and no info; 2 (request, info) on Deno <= 2.8.2
 * (tests/compat/repros/deno_internals.ts).
 */
async function argumentsDenoGivesNone(): Promise<number> {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    function (): Response {
      return new Response(String(arguments.length));
    },
  );
  try {
    return Number(await (await fetch(`http://127.0.0.1:${server.addr.port}/`)).text());
  } finally {
    await server.shutdown();
  }
}

/** Reads the rest of a decoded body onto `text`; rejects when it does not end cleanly. */
async function readRest(reader: ReadableStreamDefaultReader<string>, text = ""): Promise<string> {
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += value;
  }
}

function listen(g: Graceful): { url: string; server: Deno.HttpServer } {
  const server = Deno.serve(
    // A body cut at the deadline is reported here by default; the test checks the cut itself.
    {
      port: 0,
      hostname: "127.0.0.1",
      onListen() {},
      onError: () => new Response(null, { status: 500 }),
    },
    g.fetch as Deno.ServeHandler,
  );
  g.attach(server);
  return { url: `http://127.0.0.1:${server.addr.port}/`, server };
}

/** A body that sends `count` chunks, one every `everyMs`, then ends (endless with Infinity). */
function ticking(
  count: number,
  everyMs: number,
  onCancel?: () => void,
): ReadableStream<Uint8Array> {
  let n = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (n === count) return controller.close();
      await new Promise((resolve) => setTimeout(resolve, n === 0 ? 0 : everyMs));
      controller.enqueue(encoder.encode(`data: ${n++}\n\n`));
    },
    cancel: onCancel,
  });
}

/**
 * Serves the handler made by `make` (given an endless stream to answer with), opens one response,
 * shuts down with a 300 ms deadline, and checks the report and that the client saw the body cut.
 */
async function cutAtDeadline(
  make: (stream: ReadableStream<Uint8Array>) => FetchHandler,
): Promise<{ cancelled: () => boolean }> {
  let cancelled = false;
  const stream = ticking(Infinity, 20, () => cancelled = true);
  const g = graceful(make(stream), { logger: false, drainDelay: 0, timeout: 300 });
  const { url } = listen(g);
  const response = await fetch(url);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  await reader.read();
  const { inFlightAtStart, cut, timedOut, exitCode } = await g.shutdown();
  assert.deepEqual({ inFlightAtStart, cut, timedOut, exitCode }, {
    inFlightAtStart: COUNTED,
    cut: COUNTED,
    timedOut: true,
    exitCode: 1,
  });
  if (PUBLIC_ONLY) {
    // No public handle on a body Deno already took: it stays open until the process exits (the
    // library says so); the client leaves here so that Deno's shutdown() can settle.
    await reader.cancel();
    return { cancelled: () => true };
  }
  await assert.rejects(readRest(reader), "the client sees the body cut, not a clean end");
  return { cancelled: () => cancelled };
}

describe("Deno's fast path for handlers that declare no parameters", { skip: SKIP }, () => {
  it(
    "is kept: the wrapper declares none and Deno calls it as it calls such a handler",
    BOUNDED,
    async () => {
      const raw = await argumentsDenoGivesNone();
      const g = graceful(countArgs, { logger: false, drainDelay: 0 });
      // Without the whole-body test nothing would tell when a string body was delivered on
      // that path, so the public-API path asks for `info` instead.
      assert.equal(g.fetch.length, PUBLIC_ONLY ? 2 : 0);
      const expected = PUBLIC_ONLY ? 2 : raw;
      const { url } = listen(g);
      // The handler gets what raw Deno.serve gives one declaring no parameters (none on 2.8.3+),
      // for GET and POST alike.
      assert.equal(await (await fetch(url)).text(), String(expected));
      assert.equal(
        await (await fetch(url, { method: "POST", body: "x" })).text(),
        String(expected),
      );
      const report = await g.shutdown();
      assert.equal(report.exitCode, 0);

      // A handler that declares its parameters gets the request and info as before.
      const withArgs = graceful((request: Request, info: never) => countArgs(request, info), {
        logger: false,
        drainDelay: 0,
      });
      assert.equal(withArgs.fetch.length, 2);
      const other = listen(withArgs);
      assert.equal(await (await fetch(other.url)).text(), "2");
      await withArgs.shutdown();
    },
  );

  it("counts a streamed body until it was delivered, and drains it whole", BOUNDED, async () => {
    const g = graceful(() => new Response(ticking(5, 40)), { logger: false, drainDelay: 0 });
    const { url } = listen(g);
    const response = await fetch(url);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = (await reader.read()).value!;
    assert.equal(g.inFlight, COUNTED, "the response is still being delivered");
    const report = g.shutdown();
    const text = await readRest(reader, first);
    assert.equal(text, [0, 1, 2, 3, 4].map((n) => `data: ${n}\n\n`).join(""));
    const { inFlightAtStart, completed, cut, exitCode } = await report;
    assert.deepEqual({ inFlightAtStart, completed, cut, exitCode }, {
      inFlightAtStart: COUNTED,
      completed: COUNTED,
      cut: 0,
      exitCode: 0,
    });
  });

  it("ends an SSE stream with the final frame and cancels its source", BOUNDED, async () => {
    let cancelled = false;
    const g = graceful(
      () =>
        new Response(ticking(Infinity, 30, () => cancelled = true), {
          headers: { "content-type": "text/event-stream" },
        }),
      { logger: false, drainDelay: 0, streamGrace: 50 },
    );
    const { url } = listen(g);
    const response = await fetch(url);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = (await reader.read()).value!;
    const report = g.shutdown();
    const text = await readRest(reader, first);
    assert.ok(text.endsWith("\n\nretry: 1000\n\n"), `ends with the final frame: ${text}`);
    assert.equal(cancelled, true, "the handler's source was cancelled");
    const { cut, timedOut, exitCode } = await report;
    assert.deepEqual({ cut, timedOut, exitCode }, { cut: 0, timedOut: false, exitCode: 0 });
  });

  it("cuts an endless body at the deadline and reports it", BOUNDED, async () => {
    const { cancelled } = await cutAtDeadline((stream) => () => new Response(stream));
    assert.equal(cancelled(), true, "the handler's source was cancelled");
  });
});

describe("Deno: a body streamed before the shutdown began", { skip: SKIP }, () => {
  it("is cut at the deadline when it does not end, and reported", BOUNDED, async () => {
    const { cancelled } = await cutAtDeadline((stream) => (_request: Request) =>
      new Response(stream)
    );
    assert.equal(cancelled(), true, "the handler's source was cancelled");
  });

  it("is delivered whole when it ends before the deadline, framing kept", BOUNDED, async () => {
    const g = graceful((_request: Request) => {
      const body = ticking(4, 30);
      return new Response(body, {
        headers: { "content-length": String(4 * "data: 0\n\n".length) },
      });
    }, { logger: false, drainDelay: 0, timeout: 2_000 });
    const { url } = listen(g);
    const response = await fetch(url);
    assert.equal(response.headers.get("content-length"), "36");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = (await reader.read()).value!;
    const report = g.shutdown();
    const text = await readRest(reader, first);
    assert.equal(text, [0, 1, 2, 3].map((n) => `data: ${n}\n\n`).join(""));
    const { completed, cut, exitCode } = await report;
    assert.deepEqual({ completed, cut, exitCode }, { completed: COUNTED, cut: 0, exitCode: 0 });
  });
});
