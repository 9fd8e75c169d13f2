// Cleanup hooks: run after the drain, last registered first, each bounded by its own timeout.
// A hook that throws or hangs is reported; it never stops the others.

import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";

/**
 * A cleanup function; `signal` aborts when its timeout expires.
 *
 * @example A hook that stops waiting when its time is up
 * ```ts
 * import { serve, type ShutdownHook } from "@graceful/serve";
 *
 * const flush: ShutdownHook = async (signal) => {
 *   await fetch("http://127.0.0.1:9/flush", { method: "POST", signal }).catch(() => {});
 * };
 * const server = serve(() => new Response("ok"), { port: 0 });
 * server.onShutdown(flush, { name: "flush metrics" });
 * ```
 */
export type ShutdownHook = (signal: AbortSignal) => void | Promise<void>;

/**
 * Options of {@linkcode Graceful.onShutdown}.
 *
 * @example A named hook with its own timeout
 * ```ts
 * import { type HookOptions, serve } from "@graceful/serve";
 *
 * const server = serve(() => new Response("ok"), { port: 0 });
 * const options: HookOptions = { name: "close the pool", timeout: 2_000 };
 * server.onShutdown(() => console.error("pool closed"), options);
 * ```
 */
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

/**
 * How one cleanup hook went.
 *
 * @example Listing the hooks that failed
 * ```ts
 * import { graceful, type HookReport } from "@graceful/serve";
 *
 * const g = graceful(() => new Response("ok"));
 * const { hooks } = await g.shutdown();
 * const failed: HookReport[] = hooks.filter((hook) => hook.outcome !== "ok");
 * for (const hook of failed) console.error(`${hook.name}: ${hook.outcome} ${hook.error ?? ""}`);
 * ```
 */
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
