// Streams the shutdown ends itself: once the stream grace is over, every held SSE body gets the
// final frame and a clean end, and every WebSocket a 1001 close. A body the runtime is still
// writing to is tried again every 10 ms (bounded by the deadline, which clears the timers).

import type { _HeldBody } from "./body.ts";
import type { _Timers, TimerId } from "./clock.ts";
import type { _InFlight, _Socket } from "./in_flight.ts";
import type { Logger } from "./logger.ts";

/** The close code and reason sent to WebSockets still open when the stream grace is over. */
export const _GOING_AWAY_CODE = 1001;
const _GOING_AWAY_REASON = "server shutting down";
/** How often a body the runtime was still writing to (or had not read yet) is tried again. */
const _RETRY_MS = 10;

/** Held bodies and open sockets, and the ending of both at the stream grace. */
export class _Streams {
  #tracker: _InFlight;
  #frame: Uint8Array | undefined;
  #sse = new Set<_HeldBody>();
  /** SSE bodies that could not be ended yet, tried again. */
  #later = new Set<_HeldBody>();
  #retry: TimerId | undefined;
  /** Set once the grace is over: streams opened from then on are ended at once. */
  #ending: { timers: _Timers; reason: unknown } | undefined;

  /**
   * @param tracker Where held bodies and sockets count as in flight.
   * @param frame The final SSE frame (`sseFinalFrame`), if any.
   */
  constructor(tracker: _InFlight, frame: Uint8Array | undefined) {
    this.#tracker = tracker;
    this.#frame = frame;
  }

  /** Holds a body until it settles; an `sse` body is ended at the grace. */
  hold(body: _HeldBody, sse: boolean): void {
    this.#tracker.addBody(body);
    if (!sse) return;
    this.#sse.add(body);
    if (this.#ending) this.#end(body);
  }

  /** A held body settled. */
  release(body: _HeldBody): void {
    this.#tracker.deleteBody(body);
    this.#sse.delete(body);
  }

  /** A WebSocket opened; after the grace it is told to go away at once. */
  addSocket(socket: _Socket): void {
    this.#tracker.addSocket(socket);
    if (this.#ending) socket.close(_GOING_AWAY_CODE, _GOING_AWAY_REASON);
  }

  /** The grace is over: ends every SSE body and closes every WebSocket. */
  endAll(timers: _Timers, reason: unknown, logger: Logger): void {
    this.#ending = { timers, reason };
    const open = [...this.#sse];
    if (open.length > 0) logger.info(`ending ${open.length} SSE stream(s) with a final frame`);
    for (const body of open) this.#end(body);
    const tracker = this.#tracker;
    if (tracker.sockets > 0) {
      logger.info(`closing ${tracker.sockets} WebSocket(s) with ${_GOING_AWAY_CODE}`);
      tracker.closeSockets(_GOING_AWAY_CODE, _GOING_AWAY_REASON);
    }
  }

  /** Stops trying the bodies that could not be ended (the drain is over). */
  stop(): void {
    this.#ending?.timers.clear(this.#retry);
    this.#retry = undefined;
    this.#later.clear();
  }

  #end(body: _HeldBody): void {
    if (body.tryEnd(this.#frame, this.#ending!.reason)) return;
    this.#later.add(body);
    this.#retry ??= this.#ending!.timers.set(this.#tryLater, _RETRY_MS);
  }

  #tryLater = (): void => {
    this.#retry = undefined;
    const { timers, reason } = this.#ending!;
    for (const body of this.#later) {
      if (body.tryEnd(this.#frame, reason)) this.#later.delete(body);
    }
    if (this.#later.size > 0) this.#retry = timers.set(this.#tryLater, _RETRY_MS);
  };
}
