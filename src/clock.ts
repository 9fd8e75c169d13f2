// Timers behind one small interface so that deadline logic is tested without sleeping.

/**
 * An opaque timer handle returned by {@linkcode Clock.setTimeout}.
 *
 * @example Timer ids of a manual clock
 * ```ts
 * import type { TimerId } from "@graceful/serve";
 *
 * const timers = new Map<TimerId, () => void>();
 * let next = 0;
 * const setTimer = (fn: () => void): TimerId => {
 *   const id: TimerId = ++next;
 *   timers.set(id, fn);
 *   return id;
 * };
 * ```
 */
export type TimerId = unknown;

/**
 * The time source and timers used by the shutdown sequence; inject one to test deadlines
 * without sleeping.
 *
 * @example A clock that a test moves by hand
 * ```ts
 * import { type Clock, graceful } from "@graceful/serve";
 *
 * let now = 0;
 * const timers = new Map<number, { at: number; fn: () => void }>();
 * let next = 0;
 * const clock: Clock = {
 *   now: () => now,
 *   setTimeout: (fn, ms) => (timers.set(++next, { at: now + ms, fn }), next),
 *   clearTimeout: (id) => void timers.delete(id as number),
 * };
 * function advance(ms: number): void {
 *   now += ms;
 *   for (const [id, timer] of timers) if (timer.at <= now) timers.delete(id), timer.fn();
 * }
 * const g = graceful(() => new Response("ok"), { clock, timeout: 1_000 });
 * ```
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerId;
  /** Cancels a timer from {@linkcode Clock.setTimeout}; unknown ids are ignored. */
  clearTimeout(id: TimerId): void;
}

/** The real clock: `performance.now()` and the global timers. */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): TimerId => setTimeout(fn, ms),
  clearTimeout: (id: TimerId): void => clearTimeout(id as number),
});

/** Resolves `true` when `promise` settles first, `false` when `signal` aborts first. */
export function _race(promise: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => resolve(true),
      () => resolve(true),
    ).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Every timer of one shutdown, so that a single `clearAll()` in `finally` leaves none behind. */
export class _Timers {
  readonly clock: Clock;
  #live = new Set<TimerId>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Calls `fn` once after `ms`, unless cleared first. */
  set(fn: () => void, ms: number): TimerId {
    const id = this.clock.setTimeout(() => {
      this.#live.delete(id);
      fn();
    }, ms);
    this.#live.add(id);
    return id;
  }

  clear(id: TimerId | undefined): void {
    if (id === undefined || !this.#live.delete(id)) return;
    this.clock.clearTimeout(id);
  }

  clearAll(): void {
    for (const id of this.#live) this.clock.clearTimeout(id);
    this.#live.clear();
  }

  /** Resolves after `ms`, or at once when `signal` aborts; the timer is cleared either way. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.clear(id);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const id = this.set(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Whether `promise` settles within `ms`. */
  async within(promise: Promise<unknown>, ms: number): Promise<boolean> {
    const expired = new AbortController();
    const id = this.set(() => expired.abort(), ms);
    try {
      return await _race(promise, expired.signal);
    } finally {
      this.clear(id);
    }
  }
}
