// Run by bench/stream_heap.ts under Deno (with --v8-flags=--expose-gc) or Bun: builds N open
// SSE-like response bodies in one of four shapes and prints the JS heap they hold, per stream.
//   raw      the handler's Response, read by a reader with one read pending (what the runtime does)
//   floor    raw, plus the least any wrapper needs: a second ReadableStream and its pending read
//   wrapper  raw, wrapped as the library wraps an SSE response where it cannot end it in place
//            (_WrappedBody + a new Response, kept in the library's two sets)
//   library  what the library does on this runtime: on Deno the stream is ended in place
//            (_InPlaceBody, the info.completed promise it reads and its reaction, the two sets);
//            elsewhere the wrapper

import process from "node:process";
import { type _HeldBody, _WrappedBody } from "../../src/body.ts";
import { _denoInternals } from "../../src/runtime/deno/internals.ts";
import { _InPlaceBody } from "../../src/runtime/deno/in_place_body.ts";

type Shape = "raw" | "floor" | "wrapper" | "library";

/** The library's sets of open SSE bodies and of cuttable bodies (one entry each per stream). */
const sse = new Set<_HeldBody>();
const bodies = new Set<_HeldBody>();
const slots = "Deno" in globalThis ? _denoInternals().streamSlots : undefined;

const runtimeGc = (globalThis as { gc?: () => void }).gc ??
  (() => (globalThis as unknown as { Bun: { gc(full: boolean): void } }).Bun.gc(true));

async function heapUsed(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    runtimeGc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return process.memoryUsage().heapUsed;
}

function handlerResponse(): Response {
  const body = new ReadableStream<Uint8Array>({ start() {} });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

function pendingRead(stream: ReadableStream<Uint8Array>): ReadableStreamDefaultReader<Uint8Array> {
  const reader = stream.getReader();
  reader.read().catch(() => {});
  return reader;
}

const SHAPES: Record<Shape, () => unknown> = {
  raw: () => {
    const response = handlerResponse();
    return [response, pendingRead(response.body!)];
  },
  floor: () => {
    const response = handlerResponse();
    const extra = new ReadableStream<Uint8Array>({ pull() {} }, { highWaterMark: 0 });
    return [response, pendingRead(response.body!), pendingRead(extra)];
  },
  wrapper: () => wrapped(),
  library: () => {
    if (slots === undefined) return wrapped();
    const response = handlerResponse();
    const reader = pendingRead(response.body!);
    // Deno's info.completed makes its promise when read; the library reacts to it once.
    const completed = Promise.withResolvers<void>();
    const body = new _InPlaceBody(slots.controller(response.body!)!, slots, () => {});
    sse.add(body);
    bodies.add(body);
    const over = (): void => body.delivered();
    completed.promise.then(over, over);
    return [response, reader, completed];
  },
};

function wrapped(): unknown {
  const response = handlerResponse();
  const tracked = new _WrappedBody(response.body!, () => {});
  sse.add(tracked);
  bodies.add(tracked);
  const rewrapped = new Response(tracked.stream, response);
  return [rewrapped, pendingRead(rewrapped.body!)];
}

const [shape, count] = process.argv.slice(2) as [Shape, string];
const make = SHAPES[shape];
if (make === undefined) {
  throw new TypeError(`unknown shape ${shape}, expected raw|floor|wrapper|library`);
}
const n = Number(count);
for (let i = 0; i < 1_000; i++) make(); // warm up (code, hidden classes)
sse.clear();
bodies.clear();
const kept: unknown[] = new Array(n);
const before = await heapUsed();
for (let i = 0; i < n; i++) {
  kept[i] = make();
  if (i % 1_000 === 999) await new Promise((resolve) => setTimeout(resolve, 0));
}
const after = await heapUsed();
console.log(JSON.stringify({ shape, n: kept.length, bytesPerStream: (after - before) / n }));
