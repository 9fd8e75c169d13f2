// A Deno response stream ended in place, through its own controller: no second stream and no
// second copy of each chunk. The runtime reports the end of the response (`info.completed`), so
// the instance holds only the controller.

import { type _BodySettled, _HeldBody } from "../../body.ts";
import type { _StreamSlots } from "./internals.ts";

/** A held body ended through the stream's own controller (see `_StreamSlots`). */
export class _InPlaceBody extends _HeldBody {
  #controller: ReadableStreamDefaultController<Uint8Array>;
  #slots: _StreamSlots;

  /**
   * @param controller The controller of the body the runtime reads.
   * @param slots How to read the stream's state.
   * @param onSettled Called once, with this body and how it settled.
   */
  constructor(
    controller: ReadableStreamDefaultController<Uint8Array>,
    slots: _StreamSlots,
    onSettled: _BodySettled,
  ) {
    super(onSettled);
    this.#controller = controller;
    this.#slots = slots;
  }

  /** The runtime is done with the response: written out, or the client went away. */
  delivered(): void {
    this.settle("complete");
  }

  /**
   * Ends the body only while the runtime's read is waiting, so that the final frame goes
   * straight to it and the stream closes at once: a source that answers a pending pull after
   * that cannot error the stream with the frame still queued. A handler that closed its stream
   * keeps it as it is (no final frame after its own last event).
   */
  tryEnd(last?: Uint8Array, reason?: unknown): boolean {
    if (this.settled) return true;
    const c = this.#controller;
    if (!this.#slots.open(c)) return true;
    if (!this.#slots.waiting(c)) return false;
    this.settle("ended");
    this.#cancelSource(reason);
    try {
      if (last !== undefined && last.byteLength > 0) c.enqueue(last);
      c.close();
    } catch {
      // The source's cancel closed or errored the stream itself.
    }
    return true;
  }

  cut(reason: unknown): void {
    if (!this.settle("cut")) return;
    this.#cancelSource(reason);
    try {
      this.#controller.error(reason);
    } catch {
      // Already errored.
    }
  }

  /** Runs the source's cancel while the stream is open (closing it clears the algorithm). */
  #cancelSource(reason: unknown): void {
    try {
      this.#slots.cancelSource(this.#controller, reason)?.catch(() => {});
    } catch {
      // A source whose cancel throws synchronously: the stream still ends.
    }
  }
}
