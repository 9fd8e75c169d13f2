import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type FetchHandler, type Graceful, graceful, type GracefulOptions } from "../../mod.ts";
import { _WrappedBody } from "../../src/body.ts";
import { _isEventStream } from "../../src/responses.ts";
import { gracefulDeno } from "./_internals.ts";
import { FakeClock } from "./_fake_clock.ts";

const encoder = new TextEncoder();
const SSE = { headers: { "content-type": "text/event-stream" } };

/** Reads a byte stream to its end as text chunks, or the error it ended with. */
async function readAll(body: ReadableStream<Uint8Array>): Promise<string[] | Error> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const texts: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return texts;
      texts.push(value);
    }
  } catch (error) {
    return error as Error;
  }
}

// Both response paths: Deno's (in place where this Deno allows, else wrapped) and the one of the
// runtime the tests run on (wrapped on Bun, Deno's again on Deno).
const PATHS: [string, (h: FetchHandler, o: GracefulOptions) => Graceful<FetchHandler>][] = [
  ["Deno's path", (h, o) => gracefulDeno(h, o)],
  ["this runtime's path", (h, o) => graceful(h, o)],
];

for (const [path, make] of PATHS) {
  describe(`an SSE stream opened after the stream grace (${path})`, () => {
    /** Shuts down, lets the grace pass, then asks for one response from `handler`. */
    async function openLate(handler: (signal: AbortSignal) => Response): Promise<string[] | Error> {
      const clock = new FakeClock();
      const g: Graceful<FetchHandler> = make(() => handler(g.signal), {
        logger: false,
        clock,
        streamGrace: 100,
        drainDelay: 1_000,
        timeout: 5_000,
      });
      g.shutdown();
      await clock.advance(400);
      const info = { completed: new Promise<void>(() => {}) };
      const response = await (g.fetch as (r: Request, i: unknown) => Promise<Response>)(
        new Request("http://test/events"),
        info,
      );
      const reading = readAll(response.body!);
      await clock.advance(50);
      return reading;
    }

    it("keeps what its handler queued before the final frame", async () => {
      let cancelled = false;
      const texts = await openLate(() =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(encoder.encode(": connected\n\n"));
              c.enqueue(encoder.encode("data: 0\n\n"));
            },
            cancel() {
              cancelled = true;
            },
          }),
          SSE,
        )
      );
      assert.deepEqual(texts, [": connected\n\n", "data: 0\n\n", "retry: 1000\n\n"]);
      assert.equal(cancelled, true, "the source was cancelled");
    });

    it("keeps what a handler wrote to a TransformStream (Hono's streamSSE) before the frame", async () => {
      const texts = await openLate(() => {
        const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
        const writer = writable.getWriter();
        writer.write(encoder.encode(": connected\n\n")).then(
          () => writer.write(encoder.encode("data: 0\n\n")),
        ).catch(() => {});
        return new Response(readable, SSE);
      });
      assert.ok(Array.isArray(texts), `the body errored: ${texts}`);
      assert.equal(texts.join(""), ": connected\n\ndata: 0\n\nretry: 1000\n\n");
    });

    it("keeps a cooperative handler's own last event, with no frame after it", async () => {
      const texts = await openLate((signal) =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              assert.equal(signal.aborted, true);
              c.enqueue(encoder.encode("event: shutdown\ndata: bye\n\n"));
              c.close();
            },
          }),
          SSE,
        )
      );
      assert.deepEqual(texts, ["event: shutdown\ndata: bye\n\n"]);
    });
  });
}

describe("_WrappedBody", () => {
  it("is not ended before the runtime read what its source had queued", async () => {
    const outcomes: string[] = [];
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(encoder.encode("a"));
      },
    });
    const body = new _WrappedBody(source, (_b, outcome) => outcomes.push(outcome));
    const last = encoder.encode("z");
    assert.equal(body.tryEnd(last, "bye"), false, "nothing was read yet");
    const reader = body.stream.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "a");
    const next = reader.read();
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(body.tryEnd(last, "bye"), true, "a pull waits on the source");
    assert.equal(new TextDecoder().decode((await next).value), "z");
    assert.equal((await reader.read()).done, true);
    assert.deepEqual(outcomes, ["ended"]);
  });
});

describe("an encoded SSE response", () => {
  it("is not taken for an SSE stream the library can frame", () => {
    const sse = (headers: Record<string, string>): boolean =>
      _isEventStream(
        new Response("", { headers: { "content-type": "text/event-stream", ...headers } }),
      );
    assert.equal(sse({}), true);
    assert.equal(sse({ "content-encoding": "identity" }), true);
    assert.equal(sse({ "content-encoding": "gzip" }), false);
    assert.equal(sse({ "content-encoding": "br" }), false);
  });

  for (const [path, make] of PATHS) {
    it(`gets no final frame at the stream grace (${path})`, async () => {
      const clock = new FakeClock();
      const g = make(() =>
        new Response(
          new ReadableStream<BufferSource>({ pull() {} }).pipeThrough(
            new CompressionStream("gzip"),
          ),
          { headers: { "content-type": "text/event-stream", "content-encoding": "gzip" } },
        ), { logger: false, clock, streamGrace: 100, timeout: 5_000 });
      const response = await (g.fetch as (r: Request, i: unknown) => Promise<Response>)(
        new Request("http://test/events"),
        { completed: new Promise<void>(() => {}) },
      );
      const reader = response.body!.getReader();
      let read: unknown = "pending";
      reader.read().then((r) => read = r, (e) => read = e);
      g.shutdown();
      await clock.advance(200);
      assert.equal(read, "pending", "nothing written into the gzip body at the grace");
      reader.cancel().catch(() => {});
    });
  }
});
