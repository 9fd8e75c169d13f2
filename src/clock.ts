// Timers behind one small interface so that deadline logic is tested without sleeping.

/** An opaque timer handle returned by {@linkcode Clock.setTimeout}. */
export type TimerId = unknown;

/** The time source and timers used by the shutdown sequence. */
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

/** Resolves after `ms` on `clock`, or at once when `signal` aborts; the timer is always cleared. */
export function _sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clock.clearTimeout(id);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const id = clock.setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
