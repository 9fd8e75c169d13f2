// A manual clock for unit tests: timers fire only when the test advances time.

import type { Clock, TimerId } from "../../mod.ts";

interface _Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** Lets pending promise callbacks run (several turns, to cover chained awaits). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A {@linkcode Clock} whose time moves only through {@linkcode FakeClock.advance}. */
export class FakeClock implements Clock {
  #now = 0;
  #next = 1;
  #timers: _Timer[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const timer = { id: this.#next++, at: this.#now + ms, fn };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(id: TimerId): void {
    this.#timers = this.#timers.filter((t) => t.id !== id);
  }

  /** Timers still pending. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and flushing promises after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await flush();
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const timer = this.#timers[0];
      if (timer === undefined || timer.at > end) break;
      this.#timers.shift();
      this.#now = timer.at;
      timer.fn();
      await flush();
    }
    this.#now = end;
    await flush();
  }
}
