// Cleanup hooks: run after the drain, last registered first, each bounded by its own timeout.
// A hook that throws or hangs is reported; it never stops the others.

import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";

/** A cleanup function; `signal` aborts when its timeout expires. */
export type ShutdownHook = (signal: AbortSignal) => void | Promise<void>;

/** Options of {@linkcode Graceful.onShutdown}. */
export interface HookOptions {
  /**
   * A name for the report and the logs.
   * @default the function's name, or `hook N`
   */
  name?: string;
  /**
   * How long this hook may run, in milliseconds.
   * @default the `hookTimeout` option (5000)
   */
  timeout?: number;
}

/** How one cleanup hook went. */
export interface HookReport {
  /** The hook's name. */
  name: string;
  /** `ok`, `error` (it threw or rejected) or `timeout` (it ran past its timeout). */
  outcome: "ok" | "error" | "timeout";
  /** How long it ran, in milliseconds. */
  durationMs: number;
  /** The error message, for `error`. */
  error?: string;
}

/** A registered hook. */
export interface _Hook {
  fn: ShutdownHook;
  name: string;
  timeout: number;
}

/** Runs `hooks` in reverse order of registration and reports each. Never throws. */
export async function _runHooks(
  hooks: readonly _Hook[],
  clock: Clock,
  logger: Logger,
): Promise<HookReport[]> {
  const reports: HookReport[] = [];
  for (const hook of [...hooks].reverse()) {
    const start = clock.now();
    const expired = new AbortController();
    const timer = clock.setTimeout(
      () => expired.abort(new Error(`hook "${hook.name}" timed out after ${hook.timeout} ms`)),
      hook.timeout,
    );
    let outcome: HookReport["outcome"] = "ok";
    let message: string | undefined;
    try {
      const result = Promise.resolve().then(() => hook.fn(expired.signal));
      const expiry = new Promise<false>((resolve) =>
        expired.signal.addEventListener("abort", () => resolve(false), { once: true })
      );
      const finished = await Promise.race([result.then(() => true), expiry]);
      if (!finished) outcome = "timeout";
      // A hung hook may still reject later: observe it so it is not an unhandled rejection.
      result.catch(() => {});
    } catch (error) {
      outcome = "error";
      message = error instanceof Error ? error.message : String(error);
    } finally {
      clock.clearTimeout(timer);
    }
    const durationMs = Math.round(clock.now() - start);
    if (outcome === "timeout") {
      logger.warn(`hook "${hook.name}" timed out after ${hook.timeout} ms; continuing`);
    } else if (outcome === "error") {
      logger.error(`hook "${hook.name}" failed after ${durationMs} ms: ${message}`);
    }
    reports.push(
      message === undefined
        ? { name: hook.name, outcome, durationMs }
        : { name: hook.name, outcome, durationMs, error: message },
    );
  }
  return reports;
}
