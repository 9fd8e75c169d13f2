// Run by bench/stream_heap.ts under Deno (with --v8-flags=--expose-gc) or Bun: builds N open
// SSE-like response bodies in one of three shapes and prints the JS heap they hold, per stream.
//   raw      the handler's Response, read by a reader with one read pending (what the runtime does)
//   floor    raw, plus the least any wrapper needs: a second ReadableStream and its pending read
//   library  raw, wrapped as the library wraps an SSE response (TrackedBody + a new Response)

import process from "node:process";
import { TrackedBody } from "../../src/body.ts";

type Shape = "raw" | "floor" | "library";

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
  library: () => {
    const response = handlerResponse();
    const tracked = new TrackedBody(response.body!, () => {});
    const wrapped = new Response(tracked.stream, response);
    return [tracked, wrapped, pendingRead(wrapped.body!)];
  },
};

const [shape, count] = process.argv.slice(2) as [Shape, string];
const make = SHAPES[shape];
if (make === undefined) throw new TypeError(`unknown shape ${shape}, expected raw|floor|library`);
const n = Number(count);
for (let i = 0; i < 1_000; i++) make(); // warm up (code, hidden classes)
const kept: unknown[] = new Array(n);
const before = await heapUsed();
for (let i = 0; i < n; i++) {
  kept[i] = make();
  if (i % 1_000 === 999) await new Promise((resolve) => setTimeout(resolve, 0));
}
const after = await heapUsed();
console.log(JSON.stringify({ shape, n: kept.length, bytesPerStream: (after - before) / n }));
