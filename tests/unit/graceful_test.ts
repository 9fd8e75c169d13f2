import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { graceful, ShutdownError, type ShutdownReport } from "../../mod.ts";
import { gracefulDeno, INTERNALS, INTERNALS_ON } from "./_internals.ts";
import { FakeClock, flush } from "./_fake_clock.ts";
import { denoServer, recorder } from "./_fakes.ts";

/** A Deno-like `info` whose `completed` the test settles. */
function denoInfo(): { completed: Promise<void>; complete: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { completed: promise, complete: resolve };
}

function deferred(): { promise: Promise<Response>; resolve: (r: Response) => void } {
  const { promise, resolve } = Promise.withResolvers<Response>();
  return { promise, resolve };
}

const get = (path = "/"): Request => new Request(`http://test${path}`);
const call = (
  fetch: (request: Request, info: never) => unknown,
  request: Request,
  info?: unknown,
) => fetch(request, info as never) as Response | Promise<Response>;

describe("the default lame duck", () => {
  it("closes an idle server's listener once 20 ms passed without a request", async () => {
    const clock = new FakeClock();
    const g = gracefulDeno(() => new Response("ok"), { clock });
    const server = denoServer();
    g.attach(server);
    g.shutdown();
    await clock.advance(19);
    assert.equal(server.closeCalls, 0);
    await clock.advance(1);
    assert.equal(server.closeCalls, 1);
  });

  it("keeps a busy server's listener open (Connection: close) for at most 300 ms", async () => {
    const clock = new FakeClock();
    const g = gracefulDeno(() => new Response("ok"), { clock });
    const server = denoServer();
    g.attach(server);
    g.shutdown();
    for (let t = 0; t < 290; t += 10) {
      const response = await call(g.fetch, get(), denoInfo());
      assert.equal(response.headers.get("connection"), "close");
      await clock.advance(10);
      assert.equal(server.closeCalls, 0, `closed at ${t + 10} ms while requests kept coming`);
    }
    await call(g.fetch, get(), denoInfo());
    await clock.advance(10);
    assert.equal(server.closeCalls, 1, "closed at 300 ms");
  });

  it("waits 100 ms without a request once requests came: reconnect bursts have 20 ms gaps", async () => {
    const clock = new FakeClock();
    const g = gracefulDeno(() => new Response("ok"), { clock });
    const server = denoServer();
    g.attach(server);
    g.shutdown();
    await clock.advance(10);
    await call(g.fetch, get(), denoInfo());
    await clock.advance(40);
    assert.equal(server.closeCalls, 0, "a 40 ms gap after a request does not end it");
    await call(g.fetch, get(), denoInfo());
    await clock.advance(169);
    assert.equal(server.closeCalls, 0);
    await clock.advance(1);
    assert.equal(server.closeCalls, 1, "over once 100 ms passed without a request");
  });

  it("lasts at most half the timeout, and not at all with drainDelay 0", async () => {
    const clock = new FakeClock();
    const g = gracefulDeno(() => new Response("ok"), { clock, timeout: 100 });
    const server = denoServer();
    g.attach(server);
    g.shutdown();
    for (let t = 0; t < 50; t += 10) {
      await call(g.fetch, get(), denoInfo());
      await clock.advance(10);
    }
    assert.equal(server.closeCalls, 1, "closed at 50 ms");

    const immediate = gracefulDeno(() => new Response("ok"), { clock, drainDelay: 0 });
    const other = denoServer();
    immediate.attach(other);
    immediate.shutdown();
    assert.equal(other.closeCalls, 1, "closed in the same turn as the signal");
  });
});

describe("graceful()", () => {
  it("logs nothing unless given a logger (serve() is the one that logs by default)", async () => {
    const original = console.error;
    const written: unknown[] = [];
    console.error = (...args: unknown[]) => written.push(args);
    try {
      const g = graceful(() => new Response("ok"));
      await g.shutdown();
    } finally {
      console.error = original;
    }
    assert.deepEqual(written, []);
  });

  it("passes the second argument through untouched", async () => {
    const info = { remoteAddr: { hostname: "1.2.3.4" } };
    let seen: unknown;
    const g = graceful((_req: Request, arg: never) => {
      seen = arg;
      return new Response("ok");
    }, { logger: false });
    const response = await call(g.fetch, get(), info);
    assert.equal(seen, info);
    assert.equal(await response.text(), "ok");
  });

  it("accepts an object with a fetch method and calls it as a method", async () => {
    const app = {
      greeting: "hello",
      fetch(this: { greeting: string }, _req: Request) {
        return new Response(this.greeting);
      },
    };
    const g = graceful(app, { logger: false });
    assert.equal(await (await call(g.fetch, get())).text(), "hello");
  });

  it("counts a request until its handler settles when the runtime gives no completion", async () => {
    const d = deferred();
    const g = graceful(() => d.promise, { logger: false });
    const pending = call(g.fetch, get());
    assert.equal(g.inFlight, 1);
    d.resolve(new Response("late"));
    assert.equal(await (await pending).text(), "late");
    assert.equal(g.inFlight, 0);
  });

  it("counts a request until Deno's info.completed settles", async () => {
    const info = denoInfo();
    const body = () => new ReadableStream({ pull: (c) => c.close() });
    const g = gracefulDeno(() => new Response(body()), { logger: false });
    await call(g.fetch, get(), info);
    assert.equal(g.inFlight, 1, "the body is still being written");
    info.complete();
    await flush();
    assert.equal(g.inFlight, 0);
  });

  it("hands a string or bytes body over whole on Deno, reading neither headers nor completed", async () => {
    const test = INTERNALS.wholeBody;
    if (!INTERNALS_ON) {
      assert.equal(test, undefined, "only Deno has a whole-body slot, unless switched off");
      return;
    }
    assert.equal(typeof test, "function", "this Deno's whole-body slot was not found");
    const made: Response[] = [];
    const g = graceful((req: Request) => {
      const path = new URL(req.url).pathname;
      const response = path === "/bytes"
        ? new Response(new Uint8Array([1, 2]))
        : path === "/json"
        ? Response.json({ ok: true })
        : path === "/404"
        ? new Response("missing", { status: 404, headers: { "x-trace": "1" } })
        : new Response("ok");
      made.push(response);
      return response;
    }, { logger: false });
    const info = {
      get completed(): Promise<void> {
        throw new Error("completed was read for a whole body");
      },
    };
    for (const path of ["/", "/bytes", "/json"]) {
      const response = await call(g.fetch, get(path), info);
      assert.equal(response, made.at(-1), `${path}: the very response the handler made`);
      const slot = Object.getOwnPropertySymbols(response).find((s) =>
        s.description === "serve fast body"
      )!;
      assert.notEqual(
        (response as unknown as Record<symbol, unknown>)[slot],
        null,
        `${path}: its headers were read (Deno's fast path is lost)`,
      );
      assert.equal(g.inFlight, 0, `${path}: ended when the handler returned`);
    }
    const missing = await call(g.fetch, get("/404"), info);
    assert.equal(missing, made.at(-1), "a string body with a status of its own: as made");
    assert.equal(g.inFlight, 0, "a string body with a status of its own: ended at once");
    assert.equal(test!(new Response(new ReadableStream())), false, "a stream is not whole");
    assert.equal(test!(new Response(new Blob(["x"]))), false, "a Blob is streamed by Deno");
    assert.equal(test!(new Response(null)), false, "no body is not a whole body");
    // During the drain: the same response, with Connection: close, not re-chunked, counted
    // until Deno says it was handed over (no report calls it delivered before).
    g.shutdown();
    const handedOver = denoInfo();
    const draining = await call(g.fetch, get(), handedOver);
    assert.equal(draining, made.at(-1), "the very response the handler made, not a wrapper");
    assert.equal(draining.headers.get("connection"), "close");
    assert.equal(await draining.text(), "ok");
    assert.equal(g.inFlight, 1, "counted until completed settles");
    handedOver.complete();
    await flush();
    assert.equal(g.inFlight, 0);
  });

  it("stops counting at once when a handler throws or rejects", async () => {
    const g = graceful((req: Request) => {
      if (req.url.endsWith("/sync")) throw new Error("boom");
      return Promise.reject(new Error("async boom"));
    }, { logger: false });
    assert.throws(() => call(g.fetch, get("/sync")), /boom/);
    assert.equal(g.inFlight, 0);
    await assert.rejects(Promise.resolve(call(g.fetch, get("/async"))), /async boom/);
    assert.equal(g.inFlight, 0);
  });

  it("aborts the signal with a ShutdownError naming the reason", async () => {
    const g = graceful(() => new Response("ok"), { logger: false });
    assert.equal(g.signal.aborted, false);
    assert.equal(g.state, "serving");
    const report = g.shutdown({ signal: "SIGTERM" });
    assert.equal(g.signal.aborted, true);
    assert.ok(g.signal.reason instanceof ShutdownError);
    assert.match(g.signal.reason.message, /shutting down \(SIGTERM received\)/);
    assert.equal(g.signal.reason.signal, "SIGTERM");
    assert.equal((await report).signal, "SIGTERM");
    assert.equal(g.state, "closed");
  });

  it("returns the same promise from a second shutdown() call", () => {
    const g = graceful(() => new Response("ok"), { logger: false });
    const first = g.shutdown({ reason: "first" });
    assert.equal(g.shutdown({ reason: "second" }), first);
    assert.equal(g.finished instanceof Promise, true);
  });

  it("resolves shutdown() as soon as the last request ends, long before the deadline", async () => {
    const clock = new FakeClock();
    const d = deferred();
    const g = graceful(() => d.promise, { logger: false, clock, timeout: 10_000 });
    const pending = call(g.fetch, get());
    let settled: ShutdownReport | undefined;
    g.shutdown().then((r) => settled = r);
    const current = (): ShutdownReport | undefined => settled;
    await clock.advance(300);
    assert.equal(current(), undefined, "still draining");
    assert.equal(g.state, "draining");
    d.resolve(new Response("done"));
    // The runtime writes the body out (without Deno's whole-body test, that is when it ends).
    await (await pending).text();
    await flush();
    const report = current();
    assert.ok(report, "resolved without advancing the clock");
    assert.equal(clock.now(), 300);
    assert.deepEqual(
      { completed: report.completed, cut: report.cut, timedOut: report.timedOut },
      { completed: 1, cut: 0, timedOut: false },
    );
    assert.equal(report.exitCode, 0);
    assert.equal(report.inFlightAtStart, 1);
    assert.equal(clock.pending, 0, "every timer was cleared");
  });

  it("adds Connection: close to responses produced after the shutdown began", async () => {
    const d = deferred();
    const g = graceful((req: Request) => {
      return req.url.endsWith("/slow") ? d.promise : new Response("fast");
    }, { logger: false });
    const before = await call(g.fetch, get("/"));
    assert.equal(before.headers.get("connection"), null);
    const slow = call(g.fetch, get("/slow"));
    g.shutdown();
    const during = await call(g.fetch, get("/"));
    assert.equal(during.headers.get("connection"), "close");
    d.resolve(new Response("slow"));
    assert.equal((await slow).headers.get("connection"), "close");
  });

  it("copies a response whose headers are immutable to add Connection: close", async () => {
    const g = graceful(() => Response.redirect("http://test/elsewhere", 302), { logger: false });
    g.shutdown();
    const response = await call(g.fetch, get());
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), "http://test/elsewhere");
    assert.equal(response.headers.get("connection"), "close");
  });

  it("answers a handler still running at the deadline with 503 and reports it as cut", async () => {
    const clock = new FakeClock();
    const g = graceful(() => new Promise<Response>(() => {}), {
      logger: false,
      clock,
      timeout: 1_000,
    });
    const pending = call(g.fetch, get());
    const report = g.shutdown();
    await clock.advance(999);
    assert.equal(g.state, "draining");
    await clock.advance(1);
    const response = await pending;
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("connection"), "close");
    await response.text();
    await clock.advance(300);
    const r = await report;
    assert.equal(r.timedOut, true);
    assert.equal(r.cut, 1);
    assert.deepEqual(r.cutDetail, { handlers: 1, bodies: 0, webSockets: 0 });
    assert.equal(r.completed, 0);
    assert.equal(r.exitCode, 1);
    assert.equal(g.inFlight, 0);
  });

  it("ignores the late result of a handler answered at the deadline", async () => {
    const clock = new FakeClock();
    const d = deferred();
    const g = graceful(() => d.promise, { logger: false, clock, timeout: 100 });
    const pending = call(g.fetch, get());
    g.shutdown();
    await clock.advance(100);
    const response = await pending;
    assert.equal(response.status, 503);
    await response.text();
    d.resolve(new Response("too late"));
    await flush();
    assert.equal(g.inFlight, 0, "the late answer is not counted twice");
  });

  it("leaves a body streamed during the drain as it is on Deno's public-API path", async () => {
    if (INTERNALS.streamSlots !== undefined) return; // held with the internals: test below
    const clock = new FakeClock();
    const d = deferred();
    const g = gracefulDeno(() => d.promise, { logger: false, clock, timeout: 500 });
    const info = denoInfo();
    const pending = call(g.fetch, get(), info);
    g.shutdown();
    const original = new Response(new ReadableStream<Uint8Array>({ pull() {} }));
    d.resolve(original);
    const response = await pending;
    assert.equal(response, original, "not wrapped: a string body would lose its length");
    assert.equal(response.headers.get("connection"), "close");
    assert.equal(g.inFlight, 1, "counted until Deno says it was delivered");
    await clock.advance(500);
    await clock.advance(300);
    info.complete();
    const report = await g.finished;
    assert.deepEqual(report.cutDetail, { handlers: 0, bodies: 1, webSockets: 0 });
  });

  it("errors a body streamed during the drain when the deadline is reached (Deno)", async () => {
    if (INTERNALS.streamSlots === undefined) return; // public-API path: test above
    const clock = new FakeClock();
    const d = deferred();
    const g = gracefulDeno(() => d.promise, { logger: false, clock, timeout: 500 });
    const info = denoInfo();
    const pending = call(g.fetch, get(), info);
    g.shutdown();
    d.resolve(new Response(new ReadableStream<Uint8Array>({ pull() {} })));
    const response = await pending;
    const reader = response.body!.getReader();
    const read = reader.read().then(() => "read a chunk", (error: unknown) => error);
    await clock.advance(500);
    const error = await read;
    assert.ok(error instanceof ShutdownError, `expected a ShutdownError, got ${error}`);
    assert.match(error.message, /deadline of 500 ms/);
    info.complete();
    await clock.advance(300);
    const report = await g.finished;
    assert.deepEqual(report.cutDetail, { handlers: 0, bodies: 1, webSockets: 0 });
  });

  it("keeps a fixed-length body as it is during the drain (no re-chunking)", async () => {
    const d = deferred();
    const g = gracefulDeno(() => d.promise, { logger: false });
    const info = denoInfo();
    const pending = call(g.fetch, get(), info);
    g.shutdown();
    const original = new Response("12345", { headers: { "content-length": "5" } });
    d.resolve(original);
    const response = await pending;
    assert.equal(response, original, "the same response object, only with Connection: close");
    assert.equal(response.headers.get("connection"), "close");
  });

  it("waits, before closing the listener, only for running handlers whose request has a body (Deno)", async () => {
    const clock = new FakeClock();
    const server = denoServer();
    const upload = deferred();
    const g = gracefulDeno(
      (req: Request) => req.method === "POST" ? upload.promise : new Promise<Response>(() => {}),
      { logger: false, clock },
    );
    g.attach(server);
    call(g.fetch, get("/hang"), denoInfo());
    const post = new Request("http://test/echo", { method: "POST", body: "abc" });
    const pending = call(g.fetch, post, denoInfo());
    g.shutdown();
    await clock.advance(100);
    assert.equal(server.closeCalls, 0, "the POST body may still be arriving");
    upload.resolve(new Response("got it"));
    await pending;
    await clock.advance(0);
    assert.equal(server.closeCalls, 1, "the hanging GET does not hold the listener open");
  });

  it("ends an SSE body after streamGrace with the final frame and cancels its source", async () => {
    const clock = new FakeClock();
    let cancelled: unknown;
    const g = gracefulDeno(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode("data: 1\n\n"));
          },
          cancel(reason) {
            cancelled = reason;
          },
        }),
        { headers: { "content-type": "text/event-stream; charset=utf-8" } },
      ), { logger: false, clock, streamGrace: 200, sseFinalFrame: "event: bye\ndata: x\n\n" });
    const info = denoInfo();
    const response = await call(g.fetch, get(), info);
    const text = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const chunks: string[] = [];
    const reading = (async () => {
      for (;;) {
        const { value, done } = await text.read();
        if (done) return;
        chunks.push(value);
      }
    })();
    g.shutdown();
    await clock.advance(199);
    assert.deepEqual(chunks, ["data: 1\n\n"]);
    await clock.advance(1);
    await reading;
    assert.deepEqual(chunks, ["data: 1\n\n", "event: bye\ndata: x\n\n"]);
    assert.ok(cancelled instanceof ShutdownError, "the source stream was cancelled");
    info.complete();
    const report = await g.finished;
    assert.equal(report.cut, 0);
    assert.equal(report.completed, 1);
  });

  it("leaves SSE streams alone with sseFinalFrame false: no frame at the grace, cut at the deadline", async () => {
    const clock = new FakeClock();
    const g = gracefulDeno(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode("data: 1\n\n"));
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      ), { logger: false, clock, streamGrace: 100, timeout: 1_000, sseFinalFrame: false });
    const response = await call(g.fetch, get(), denoInfo());
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value, "data: 1\n\n");
    const seen: { next: unknown } = { next: "pending" };
    reader.read().then((r) => seen.next = r, (e) => seen.next = e);
    g.shutdown();
    await clock.advance(999);
    assert.equal(seen.next, "pending", "not ended at the stream grace, nor before the deadline");
    assert.equal(g.state, "draining");
    await clock.advance(1);
    await clock.advance(300);
    const report = await g.finished;
    assert.equal(report.timedOut, true);
    if (INTERNALS.streamSlots !== undefined) {
      // Deno holds every streamed body: the deadline cuts it. (Bun's stop(true) does it there.)
      const cut: unknown = seen.next;
      assert.ok(cut instanceof ShutdownError, `the body was cut, got ${String(cut)}`);
      assert.deepEqual(report.cutDetail, { handlers: 0, bodies: 1, webSockets: 0 });
    }
  });

  it("reads no response headers on Bun with sseFinalFrame false (one read to find SSE otherwise)", async () => {
    if ("Deno" in globalThis) return; // Deno finds string bodies without the headers (test above)
    const reads: number[] = [];
    for (const sseFinalFrame of [false, undefined] as const) {
      let count = 0;
      const g = graceful(() => {
        const response = new Response("ok");
        const headers = response.headers;
        Object.defineProperty(response, "headers", {
          get: () => (count++, headers),
        });
        return response;
      }, { sseFinalFrame });
      const response = await call(g.fetch, get(), {});
      assert.equal(await response.text(), "ok");
      reads.push(count);
    }
    assert.deepEqual(reads, [0, 1]);
  });

  it("ends an SSE stream in place on Deno (no second stream), wraps it elsewhere", async () => {
    const slots = INTERNALS.streamSlots;
    if (INTERNALS_ON) assert.notEqual(slots, undefined, "this Deno's stream slots");
    else assert.equal(slots, undefined, "only Deno's streams are ended in place, unless off");
    const clock = new FakeClock();
    let source: ReadableStream<Uint8Array> | undefined;
    const g = gracefulDeno(() => {
      source = new ReadableStream<Uint8Array>({ pull() {} });
      return new Response(source, { headers: { "content-type": "text/event-stream" } });
    }, { logger: false, clock, streamGrace: 100 });
    const info = denoInfo();
    const response = await call(g.fetch, get(), info);
    assert.equal(response.body === source, slots !== undefined, "the handler's own stream");
    const reader = response.body!.getReader();
    const read = reader.read();
    g.shutdown();
    await clock.advance(100);
    assert.equal(new TextDecoder().decode((await read).value), "retry: 1000\n\n");
    assert.equal((await reader.read()).done, true, "a clean end after the final frame");
    info.complete();
    assert.equal((await g.finished).cut, 0);
  });

  it("ends an SSE stream in place only while the runtime's read waits (Deno)", async () => {
    if (INTERNALS.streamSlots === undefined) return; // wrapped: ended at once (test above)
    const clock = new FakeClock();
    const encoder = new TextEncoder();
    let cancelled = false;
    let n = 0;
    // Like Hono's stream helpers: one chunk queued ahead, and a pull that was running when the
    // stream ended still enqueues (the failed pull would error a stream not closed yet).
    const g = gracefulDeno(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull: async (controller) => {
            await new Promise<void>((resolve) => clock.setTimeout(resolve, 30));
            controller.enqueue(encoder.encode(`data: ${n++}\n\n`));
          },
          cancel() {
            cancelled = true;
          },
        }, { highWaterMark: 1 }),
        { headers: { "content-type": "text/event-stream" } },
      ), { logger: false, clock, streamGrace: 100 });
    const info = denoInfo();
    const response = await call(g.fetch, get(), info);
    const reader = response.body!.getReader();
    await clock.advance(30);
    assert.equal(new TextDecoder().decode((await reader.read()).value), "data: 0\n\n");
    await clock.advance(30); // "data: 1" is queued: the client reads nothing meanwhile
    g.shutdown();
    await clock.advance(125);
    assert.equal(cancelled, false, "not ended while the runtime was not reading");
    const texts: string[] = [];
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        texts.push(new TextDecoder().decode(value));
      }
    })();
    await clock.advance(10);
    await clock.advance(30); // the pull running at the end still enqueues, and fails
    await reading;
    assert.deepEqual(texts, ["data: 1\n\n", "retry: 1000\n\n"], "the rest, then the frame");
    assert.equal(cancelled, true, "the source was cancelled");
    info.complete();
    const report = await g.finished;
    assert.equal(report.cut, 0);
  });

  it("keeps the listener open for drainDelay, then closes it", async () => {
    const clock = new FakeClock();
    const server = denoServer();
    const g = gracefulDeno(() => new Response("ok"), { logger: false, clock, drainDelay: 400 });
    g.attach(server);
    g.shutdown();
    await clock.advance(399);
    assert.equal(server.closeCalls, 0);
    await clock.advance(1);
    assert.equal(server.closeCalls, 1);
    server.settle();
    const report = await g.finished;
    assert.equal(report.exitCode, 0);
    assert.equal(report.durationMs, 400);
  });

  it("waits for the runtime's shutdown() before finishing", async () => {
    const clock = new FakeClock();
    const server = denoServer();
    const g = gracefulDeno(() => new Response("ok"), { logger: false, clock });
    g.attach(server);
    let done = false;
    g.shutdown().then(() => done = true);
    await clock.advance(50);
    assert.equal(server.closeCalls, 1);
    assert.equal(done, false, "the runtime is still delivering responses");
    server.settle();
    await flush();
    assert.equal(done, true);
  });

  it("closes the listener only once request bodies still arriving were read (Deno)", async () => {
    const clock = new FakeClock();
    const server = denoServer();
    const d = deferred();
    const g = gracefulDeno(() => d.promise, { logger: false, clock });
    g.attach(server);
    const info = denoInfo();
    const upload = new Request("http://test/echo", {
      method: "POST",
      body: "x".repeat(10),
      headers: { "content-length": "10" },
    });
    const pending = call(g.fetch, upload, info);
    g.shutdown();
    await clock.advance(200);
    assert.equal(server.closeCalls, 0, "listener kept open while the upload arrives");
    d.resolve(new Response("received"));
    assert.equal(await (await pending).text(), "received");
    info.complete();
    await flush();
    assert.equal(server.closeCalls, 1);
    server.settle();
    assert.equal((await g.finished).exitCode, 0);
  });

  it("lets a handler call shutdown() and still deliver its own response", async () => {
    const server = denoServer();
    const g = gracefulDeno(async (_req: Request) => {
      g.shutdown({ reason: "POST /shutdown" });
      await flush();
      return new Response("shutting down", { status: 202 });
    }, { logger: false });
    g.attach(server);
    const info = denoInfo();
    const response = await call(g.fetch, get(), info);
    assert.equal(response.status, 202);
    assert.equal(await response.text(), "shutting down");
    assert.equal(g.state, "draining", "waits for this response to be delivered");
    info.complete();
    server.settle();
    const report = await g.finished;
    assert.equal(report.reason, "POST /shutdown");
    assert.equal(report.completed, 1);
  });

  it("rejects attach() of something that is not a server", () => {
    const g = graceful(() => new Response("ok"), { logger: false });
    assert.throws(() => g.attach({}), {
      name: "TypeError",
      message: /attach\(\): expected the server returned by Deno.serve\(\) or Bun.serve\(\)/,
    });
  });

  it("logs one line per phase and a progress line every second", async () => {
    const clock = new FakeClock();
    const log = recorder();
    const d = deferred();
    const g = graceful(() => d.promise, { logger: log, clock });
    const pending = call(g.fetch, get());
    g.shutdown({ reason: "test" });
    await clock.advance(2_500);
    d.resolve(new Response("ok"));
    await (await pending).text();
    await g.finished;
    assert.equal(log.lines.filter((l) => l.includes("still in flight")).length, 2);
    assert.match(
      log.lines.find((l) => !l.includes("public-API path"))!,
      /^info shutdown started \(test\): 1 in flight, deadline in 10000 ms/,
    );
    assert.ok(log.lines.some((l) => /^info drained in 2500 ms/.test(l)));
    assert.match(log.lines.at(-1)!, /^info shutdown complete in 2500 ms: 1 completed, 0 cut/);
  });
});
