// Held response bodies: a body the library can end cleanly (SSE, with the final frame) or cut at
// the deadline. Only streamed bodies that need it are held, never string or bytes bodies. The
// wrapper here works on every runtime, at the price of a second stream per body; Deno's in-place
// variant lives in src/runtime/deno/in_place_body.ts.

import type { _Cuttable } from "./in_flight.ts";

/** How a held body settled. */
export type _BodyOutcome = "complete" | "cancelled" | "errored" | "ended" | "cut";

/** Told once when a held body settled, and how; one function serves every body of a server. */
export type _BodySettled = (body: _HeldBody, outcome: _BodyOutcome) => void;

/** A response body the library can end cleanly or cut; it settles once, whichever way. */
export abstract class _HeldBody implements _Cuttable {
  /** Cleared once the body settled: `undefined` means settled. */
  #onSettled: _BodySettled | undefined;

  constructor(onSettled: _BodySettled) {
    this.#onSettled = onSettled;
  }

  /**
   * Ends the body cleanly after writing `last` (if given) and cancels its source, unless the
   * handler ended it itself. `false` when the runtime has not yet read what the handler queued
   * (or is still writing): try again later.
   */
  abstract tryEnd(last?: Uint8Array, reason?: unknown): boolean;

  /** Errors the body so the runtime aborts the connection, and cancels the source. */
  abstract cut(reason: unknown): void;

  /** Whether the body settled already. */
  get settled(): boolean {
    return this.#onSettled === undefined;
  }

  /** Reports the settling with `outcome`; false when it was reported already. */
  protected settle(outcome: _BodyOutcome): boolean {
    const onSettled = this.#onSettled;
    if (onSettled === undefined) return false;
    this.#onSettled = undefined;
    onSettled(this, outcome);
    return true;
  }
}

/**
 * A body wrapped in a second stream that the library owns. It holds no closures and no promise
 * reactions while the stream is open: the instance is its own underlying source and the settle
 * callback is shared (bench/README.md: "Heap per open SSE stream").
 */
export class _WrappedBody extends _HeldBody {
  /** The stream to hand to the runtime in place of the original body. */
  readonly stream: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** A pull is waiting on the source: the runtime wants more and everything queued went out. */
  #pulling = false;
  /** Set by `tryEnd`: the final frame, written once the waiting pull comes back. */
  #ending: { last: Uint8Array | undefined } | undefined;

  /**
   * @param source The original body; it is locked from now on.
   * @param onSettled Called once, with this body and how it settled.
   */
  constructor(source: ReadableStream<Uint8Array>, onSettled: _BodySettled) {
    super(onSettled);
    this.#reader = source.getReader();
    this.stream = new ReadableStream<Uint8Array>(this, { highWaterMark: 0 });
  }

  /** Underlying source: keeps the controller. */
  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
  }

  /** Underlying source: forwards the next chunk of the original body. */
  pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    this.#pulling = true;
    return this.#reader.read().then((chunk) => {
      this.#pulling = false;
      if (this.#ending !== undefined) return this.#endWith(chunk.done ? undefined : chunk.value);
      if (this.settled) return;
      if (chunk.done) {
        this.settle("complete");
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    }, (error: unknown) => {
      this.#pulling = false;
      if (this.#ending !== undefined) return this.#endWith(undefined);
      if (this.settle("errored")) controller.error(error);
    });
  }

  /** Underlying source: the client went away; cancel the original body. */
  cancel(reason: unknown): Promise<void> | undefined {
    this.#ending = undefined;
    return this.settle("cancelled") ? this.#reader.cancel(reason) : undefined;
  }

  /**
   * Ends the body only while a pull waits on the source, as Deno's in-place body does: then
   * everything the handler queued (its own last event, or the end of a stream it closed) has gone
   * to the runtime first. Until then (a stream not read yet, e.g. one opened after the grace)
   * `false`: again later. The source is cancelled, which answers the waiting read, and the frame
   * follows what that read brings: a chunk that arrived in this same turn is not lost.
   */
  tryEnd(last?: Uint8Array, reason?: unknown): boolean {
    if (this.settled) return true;
    if (!this.#pulling) return false;
    this.settle("ended");
    this.#ending = { last };
    this.#reader.cancel(reason).catch(() => {});
    return true;
  }

  cut(reason: unknown): void {
    this.#ending = undefined;
    if (!this.settle("cut")) return;
    try {
      this.#controller!.error(reason);
    } catch {
      // Already closed by the runtime.
    }
    this.#reader.cancel(reason).catch(() => {});
  }

  /** The waiting pull came back after `tryEnd`: its chunk (if any), the final frame, the end. */
  #endWith(chunk: Uint8Array | undefined): void {
    const last = this.#ending!.last;
    this.#ending = undefined;
    const controller = this.#controller!;
    try {
      if (chunk !== undefined) controller.enqueue(chunk);
      if (last !== undefined && last.byteLength > 0) controller.enqueue(last);
      controller.close();
    } catch {
      // The runtime cancelled the stream meanwhile: nothing left to deliver.
    }
  }
}
