/**
 * The one domain error of the library: the reason the shutdown signal aborts with, and the error
 * that cut streams are errored with at the deadline.
 *
 * @example Telling a shutdown apart from other aborts
 * ```ts
 * import { ShutdownError } from "@graceful/serve";
 *
 * function describe(reason: unknown): string {
 *   return reason instanceof ShutdownError ? `shutdown: ${reason.message}` : "other abort";
 * }
 * ```
 */
export class ShutdownError extends Error {
  /** The OS signal that started the shutdown, or `null` when `shutdown()` was called. */
  readonly signal: string | null;

  /**
   * Creates the error.
   *
   * @param message What happened, e.g. `"server is shutting down (SIGTERM received)"`.
   * @param options `signal`: the OS signal, if any; `cause`: the underlying error, if any.
   */
  constructor(message: string, options: { signal?: string | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ShutdownError";
    this.signal = options.signal ?? null;
  }
}
