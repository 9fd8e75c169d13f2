// A response body wrapper used only where the library must be able to end or cut a stream:
// never on the hot path (wrapping every body costs 50-80% of small-request throughput).

import type { _Cuttable } from "./in_flight.ts";

/** How a tracked body ended. */
export type _BodyOutcome = "complete" | "cancelled" | "errored" | "ended" | "cut";

/**
 * Wraps a response body so that it can be ended cleanly or cut, and reports how it ended. The
 * instance is its own underlying source (no closures): on Deno 2.9 every open SSE stream carries
 * one, and bench/README.md shows the wrapper's heap cost against the runtime's floor.
 */
export class TrackedBody implements _Cuttable {
  /** The stream to hand to the runtime in place of the original body. */
  readonly stream: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** Cleared once the body ended: `undefined` means settled. */
  #onEnd: ((outcome: _BodyOutcome) => void) | undefined;
  /** The original body closed by itself (its last chunks may still be on their way). */
  #sourceClosed = false;

  /**
   * @param source The original body; it is locked from now on.
   * @param onEnd Called once, with how the body ended.
   */
  constructor(source: ReadableStream<Uint8Array>, onEnd: (outcome: _BodyOutcome) => void) {
    this.#reader = source.getReader();
    this.#onEnd = onEnd;
    this.stream = new ReadableStream<Uint8Array>(this, { highWaterMark: 0 });
    // A handler may end its stream while a slow client is still reading: end() must then let the
    // rest through, not append a final frame after the handler's own last event.
    this.#reader.closed.then(() => {
      this.#sourceClosed = true;
    }, () => {});
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

  /** Ends the body cleanly after writing `last` (if given) and cancels the source. */
  end(last?: Uint8Array, reason?: unknown): void {
    if (this.#sourceClosed || !this.#settle("ended")) return;
    try {
      if (last !== undefined && last.byteLength > 0) this.#controller!.enqueue(last);
      this.#controller!.close();
    } catch {
      // The runtime already cancelled the stream: nothing left to deliver.
    }
    this.#reader.cancel(reason).catch(() => {});
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
    onEnd(outcome);
    return true;
  }
}
