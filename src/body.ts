// How the library ends or cuts a response stream it does not own, used only where it must (SSE
// streams; on Deno, which cannot force a server, every streamed body): never for string or bytes
// bodies. On Deno the stream is held and ended in place; elsewhere it is wrapped (wrapping every
// body costs 50-80% of small-request throughput).

import type { _Cuttable } from "./in_flight.ts";
import type { _StreamSlots } from "./runtime/deno.ts";

/** How a tracked body ended. */
export type _BodyOutcome = "complete" | "cancelled" | "errored" | "ended" | "cut";

/** Told once when a tracked body ended, and how; one function serves every body of a server. */
export type _BodyEnded = (body: _EndableBody, outcome: _BodyOutcome) => void;

/** A response body the library can end cleanly or cut. */
export interface _EndableBody extends _Cuttable {
  /**
   * Ends the body cleanly after writing `last` (if given) and cancels its source, unless the
   * handler ended it itself. `false` when it cannot be ended yet and must be asked again later.
   */
  end(last?: Uint8Array, reason?: unknown): boolean;
}

/** What both kinds of tracked body share: their end is reported once, whichever way it came. */
abstract class _EndsOnce implements _EndableBody {
  /** Cleared once the body ended: `undefined` means settled. */
  #onEnd: _BodyEnded | undefined;

  constructor(onEnd: _BodyEnded) {
    this.#onEnd = onEnd;
  }

  abstract end(last?: Uint8Array, reason?: unknown): boolean;
  abstract cut(reason: unknown): void;

  /** Whether the body already ended. */
  get settled(): boolean {
    return this.#onEnd === undefined;
  }

  /** Reports the end with `outcome`; false when it was reported already. */
  protected settle(outcome: _BodyOutcome): boolean {
    const onEnd = this.#onEnd;
    if (onEnd === undefined) return false;
    this.#onEnd = undefined;
    onEnd(this, outcome);
    return true;
  }
}

/**
 * Wraps a response body so that it can be ended cleanly or cut, and reports how it ended. On Deno
 * 2.9 every open SSE stream carries one, so it holds no closures and no promise reactions of its
 * own while the stream is open: the instance is its own underlying source, the end callback is
 * shared, and bench/README.md shows the heap cost against the runtime's floor.
 */
export class TrackedBody extends _EndsOnce {
  /** The stream to hand to the runtime in place of the original body. */
  readonly stream: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;

  /**
   * @param source The original body; it is locked from now on.
   * @param onEnd Called once, with this body and how it ended.
   */
  constructor(source: ReadableStream<Uint8Array>, onEnd: _BodyEnded) {
    super(onEnd);
    this.#reader = source.getReader();
    this.stream = new ReadableStream<Uint8Array>(this, { highWaterMark: 0 });
  }

  /** Underlying source: keeps the controller. */
  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
  }

  /** Underlying source: forwards the next chunk of the original body. */
  pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    return this.#reader.read().then((chunk) => {
      if (this.settled) return;
      if (chunk.done) {
        this.settle("complete");
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    }, (error: unknown) => {
      if (this.settle("errored")) controller.error(error);
    });
  }

  /** Underlying source: the client went away; cancel the original body. */
  cancel(reason: unknown): Promise<void> | undefined {
    return this.settle("cancelled") ? this.#reader.cancel(reason) : undefined;
  }

  /**
   * Ends the body cleanly after writing `last` (if given) and cancels the source, a microtask
   * later. A handler may have ended its stream while a slow client is still reading: then the
   * rest goes through as it is, with no final frame after the handler's own last event. Whether
   * the source closed shows only through `reader.closed`; its reaction, queued first, has run by
   * the time the check below runs when the source is already closed.
   */
  end(last?: Uint8Array, reason?: unknown): boolean {
    if (this.settled) return true;
    let sourceClosed = false;
    this.#reader.closed.then(() => {
      sourceClosed = true;
    }, () => {});
    queueMicrotask(() => {
      if (sourceClosed || !this.settle("ended")) return;
      try {
        if (last !== undefined && last.byteLength > 0) this.#controller!.enqueue(last);
        this.#controller!.close();
      } catch {
        // The runtime already cancelled the stream: nothing left to deliver.
      }
      this.#reader.cancel(reason).catch(() => {});
    });
    return true;
  }

  /** Errors the body so the runtime aborts the connection, and cancels the source. */
  cut(reason: unknown): void {
    if (!this.settle("cut")) return;
    try {
      this.#controller!.error(reason);
    } catch {
      // Already closed by the runtime.
    }
    this.#reader.cancel(reason).catch(() => {});
  }
}

/**
 * A Deno response stream ended in place, through its own controller: no second stream and no
 * second copy of each chunk (bench/README.md: "Heap per open SSE stream"). The runtime reports
 * the end of the response (`info.completed`), so the instance holds only the controller.
 */
export class InPlaceBody extends _EndsOnce {
  #controller: ReadableStreamDefaultController<Uint8Array>;
  #slots: _StreamSlots;

  /**
   * @param controller The controller of the body the runtime reads (see `_StreamSlots`).
   * @param slots How to read the stream's state.
   * @param onEnd Called once, with this body and how it ended.
   */
  constructor(
    controller: ReadableStreamDefaultController<Uint8Array>,
    slots: _StreamSlots,
    onEnd: _BodyEnded,
  ) {
    super(onEnd);
    this.#controller = controller;
    this.#slots = slots;
  }

  /** The runtime is done with the response: written out, or the client went away. */
  over(): void {
    this.settle("complete");
  }

  /**
   * Ends the body only while the runtime's read is waiting, so that the final frame goes
   * straight to it and the stream is closed at once: a source that answers a pending pull
   * after that cannot error the stream with the frame still queued. A handler that closed its
   * stream keeps it as it is (no final frame after its own last event).
   */
  end(last?: Uint8Array, reason?: unknown): boolean {
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

  /** Errors the body so the runtime aborts the connection, and cancels the source. */
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
