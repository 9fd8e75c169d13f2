// A response body wrapper used only where the library must be able to end or cut a stream:
// never on the hot path (wrapping every body costs 50-80% of small-request throughput).

import type { _Cuttable } from "./in_flight.ts";

/** How a tracked body ended. */
export type _BodyOutcome = "complete" | "cancelled" | "errored" | "ended" | "cut";

/** Wraps a response body so that it can be ended cleanly or cut, and reports how it ended. */
export class TrackedBody implements _Cuttable {
  /** The stream to hand to the runtime in place of the original body. */
  readonly stream: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #onEnd: (outcome: _BodyOutcome) => void;
  #settled = false;

  /**
   * @param source The original body; it is locked from now on.
   * @param onEnd Called once, with how the body ended.
   */
  constructor(source: ReadableStream<Uint8Array>, onEnd: (outcome: _BodyOutcome) => void) {
    this.#reader = source.getReader();
    this.#onEnd = onEnd;
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: async (controller) => {
        let chunk: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
        try {
          chunk = await this.#reader.read();
        } catch (error) {
          if (this.#settle("errored")) controller.error(error);
          return;
        }
        if (this.#settled) return;
        if (chunk.done) {
          this.#settle("complete");
          controller.close();
        } else {
          controller.enqueue(chunk.value);
        }
      },
      cancel: (reason) => {
        return this.#settle("cancelled") ? this.#reader.cancel(reason) : undefined;
      },
    }, { highWaterMark: 0 });
  }

  /** Whether the body already ended. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Ends the body cleanly after writing `last` (if given) and cancels the source. */
  end(last?: Uint8Array, reason?: unknown): void {
    if (!this.#settle("ended")) return;
    try {
      if (last !== undefined && last.byteLength > 0) this.#controller.enqueue(last);
      this.#controller.close();
    } catch {
      // The runtime already cancelled the stream: nothing left to deliver.
    }
    this.#reader.cancel(reason).catch(() => {});
  }

  /** Errors the body so the runtime aborts the connection, and cancels the source. */
  cut(reason: unknown): void {
    if (!this.#settle("cut")) return;
    try {
      this.#controller.error(reason);
    } catch {
      // Already closed by the runtime.
    }
    this.#reader.cancel(reason).catch(() => {});
  }

  #settle(outcome: _BodyOutcome): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#onEnd(outcome);
    return true;
  }
}
