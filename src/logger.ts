// Logging: one line per shutdown phase, never one per request.

/**
 * Where the library writes its phase and progress lines.
 *
 * @example JSON lines for a log collector
 * ```ts
 * import { type Logger, serve } from "@graceful/serve";
 *
 * const line = (level: string) => (message: string): void =>
 *   console.error(JSON.stringify({ level, message, source: "graceful" }));
 * const logger: Logger = { info: line("info"), warn: line("warn"), error: line("error") };
 * serve(() => new Response("ok"), { port: 0, logger });
 * ```
 */
export interface Logger {
  /** Phase changes and progress. */
  info(message: string): void;
  /** Work cut at the deadline, hooks that timed out. */
  warn(message: string): void;
  /** Hooks that threw. */
  error(message: string): void;
}

/**
 * The default logger of `serve()`: each line goes to stderr, prefixed with `[graceful]`.
 *
 * @example Logging from graceful(), which is silent by default
 * ```ts
 * import { graceful, stderrLogger } from "@graceful/serve";
 *
 * const g = graceful(() => new Response("ok"), { logger: stderrLogger });
 * ```
 */
export const stderrLogger: Logger = Object.freeze({
  info: (message: string): void => console.error(`[graceful] ${message}`),
  warn: (message: string): void => console.error(`[graceful] warning: ${message}`),
  error: (message: string): void => console.error(`[graceful] error: ${message}`),
});

const _silent: Logger = Object.freeze({ info() {}, warn() {}, error() {} });

/**
 * `logger` itself, or stderr where it is the silent one: for a failure that the other runtimes
 * throw (and so print whatever the logger), which must not end the process unexplained.
 */
export function _loudLogger(logger: Logger): Logger {
  return logger === _silent ? stderrLogger : logger;
}

/**
 * Resolves the `logger` option: `false` is silent; `undefined` is stderr for serve() (which owns
 * the process) and silent for graceful() (the core logs only when given a logger).
 */
export function _logger(where: string, value: unknown): Logger {
  if (value === undefined) return where === "serve()" ? stderrLogger : _silent;
  if (value === false) return _silent;
  if (
    typeof value === "object" && value !== null &&
    typeof (value as Logger).info === "function" &&
    typeof (value as Logger).warn === "function" &&
    typeof (value as Logger).error === "function"
  ) {
    const logger = value as Logger;
    // Bind so that `console` and class instances can be passed as they are.
    return {
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    };
  }
  throw new TypeError(
    `${where}: "logger" must be false or an object with info, warn and error methods, received ${
      value === null ? "null" : typeof value === "object" ? "an object without them" : typeof value
    }`,
  );
}
