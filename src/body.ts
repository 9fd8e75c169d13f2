// A response body wrapper used only where the library must be able to end or cut a stream:
// never on the hot path (wrapping every body costs 50-80% of small-request throughput).

import type { _Cuttable } from "./in_flight.ts";

/** How a tracked body ended. */
export type _BodyOutcome = "complete" | "cancelled" | "errored" | "ended" | "cut";

/** Told once when a tracked body ended, and how; one function serves every body of a server. */
export type _BodyEnded = (body: TrackedBody, outcome: _BodyOutcome) => void;

/**
 * Wraps a response body so that it can be ended cleanly or cut, and reports how it ended. On Deno
 * 2.9 every open SSE stream carries one, so it holds no closures and no promise reactions of its
 * own while the stream is open: the instance is its own underlying source, the end callback is
 * shared, and bench/README.md shows the heap cost against the runtime's floor.
 */
export class TrackedBody implements _Cuttable {
  /** The stream to hand to the runtime in place of the original body. */
  readonly stream: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** Cleared once the body ended: `undefined` means settled. */
  #onEnd: _BodyEnded | undefined;

  /**
   * @param source The original body; it is locked from now on.
   * @param onEnd Called once, with this body and how it ended.
   */
  constructor(source: ReadableStream<Uint8Array>, onEnd: _BodyEnded) {
    this.#reader = source.getReader();
    this.#onEnd = onEnd;
    this.stream = new ReadableStream<Uint8Array>(this, { highWaterMark: 0 });
  }

  /** Underlying source: keeps the controller. */
  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
  }

  /** Underlying source: forwards the next chunk of the original body. */
  pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    return this.#reader.read().then((chunk) => {
      if (this.#onEnd === undefined) return;
      if (chunk.done) {
        this.#settle("complete");
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    }, (error: unknown) => {
      if (this.#settle("errored")) controller.error(error);
    });
  }

  /** Underlying source: the client went away; cancel the original body. */
  cancel(reason: unknown): Promise<void> | undefined {
    return this.#settle("cancelled") ? this.#reader.cancel(reason) : undefined;
  }

  /** Whether the body already ended. */
  get settled(): boolean {
    return this.#onEnd === undefined;
  }

  /**
   * Ends the body cleanly after writing `last` (if given) and cancels the source, a microtask
   * later. A handler may have ended its stream while a slow client is still reading: then the
   * rest goes through as it is, with no final frame after the handler's own last event. Whether
   * the source closed shows only through `reader.closed`; its reaction, queued first, has run by
   * the time the check below runs when the source is already closed.
   */
  end(last?: Uint8Array, reason?: unknown): void {
    if (this.#onEnd === undefined) return;
    let sourceClosed = false;
    this.#reader.closed.then(() => {
      sourceClosed = true;
    }, () => {});
    queueMicrotask(() => {
      if (sourceClosed || !this.#settle("ended")) return;
      try {
        if (last !== undefined && last.byteLength > 0) this.#controller!.enqueue(last);
        this.#controller!.close();
      } catch {
        // The runtime already cancelled the stream: nothing left to deliver.
      }
      this.#reader.cancel(reason).catch(() => {});
    });
  }

  /** Errors the body so the runtime aborts the connection, and cancels the source. */
  cut(reason: unknown): void {
    if (!this.#settle("cut")) return;
    try {
      this.#controller!.error(reason);
    } catch {
      // Already closed by the runtime.
    }
    this.#reader.cancel(reason).catch(() => {});
  }

  #settle(outcome: _BodyOutcome): boolean {
    const onEnd = this.#onEnd;
    if (onEnd === undefined) return false;
    this.#onEnd = undefined;
    onEnd(this, outcome);
    return true;
  }
}
