// Validation of user options: every bad value is a TypeError or RangeError naming the option,
// the value received and what was expected. Resolved settings are what the core reads.

import { type Clock, systemClock } from "./clock.ts";
import type { _Hook, HookOptions, ShutdownHook } from "./hooks.ts";
import { _Lifecycle } from "./lifecycle.ts";
import { _logger, type Logger } from "./logger.ts";
import { _isSignalName, type SignalName } from "./signals.ts";
import type { FetchHandler } from "./types.ts";

/** Renders a received value for an error message. */
export function _show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return `a function`;
  if (Array.isArray(value)) return `an array`;
  if (value === null) return "null";
  if (typeof value === "object") return `an object`;
  return String(value);
}

/** Checks a duration in milliseconds: a finite number >= 0 (or `undefined` for the default). */
export function _duration(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `${where}: "${name}" must be a number of milliseconds, received ${_show(value)}`,
    );
  }
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `${where}: "${name}" must be a finite number >= 0, received ${_show(value)}`,
    );
  }
  return value;
}

/** Checks that an options argument is a plain object (or absent). */
export function _optionsObject(where: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: options must be an object, received ${_show(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Rejects option names that do not exist, so a typo is not silently ignored. */
export function _knownKeys(
  where: string,
  options: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${where}: unknown option "${key}", expected one of ${
          known.map((k) => `"${k}"`).join(", ")
        }`,
      );
    }
  }
}

/** The options graceful() takes; serve() takes these and more. */
export const _GRACEFUL_KEYS = [
  "timeout",
  "drainDelay",
  "hookTimeout",
  "streamGrace",
  "sseFinalFrame",
  "logger",
  "lifecycle",
  "clock",
] as const;

/** Resolved options shared by graceful() and serve(). */
export interface _Settings {
  timeout: number;
  /** The lame-duck delay; `"auto"` is the adaptive default. */
  drainDelay: number | "auto";
  hookTimeout: number;
  streamGrace: number;
  /** `undefined`: SSE responses are not looked for. */
  sseFinalFrame: Uint8Array | undefined;
  logger: Logger;
  lifecycle: _Lifecycle;
  clock: Clock;
}

/** Validates the graceful options found in `options`. */
export function _settings(where: string, options: Record<string, unknown>): _Settings {
  const timeout = _duration(where, "timeout", options.timeout, 10_000);
  const drainDelay = options.drainDelay === undefined
    ? "auto"
    : _duration(where, "drainDelay", options.drainDelay, 0);
  if (drainDelay !== "auto" && drainDelay > 0 && drainDelay >= timeout) {
    throw new RangeError(
      `${where}: "drainDelay" must be less than "timeout" (${timeout}), received ${drainDelay}`,
    );
  }
  const clock = options.clock ?? systemClock;
  if (
    typeof clock !== "object" || clock === null ||
    typeof (clock as Clock).now !== "function" ||
    typeof (clock as Clock).setTimeout !== "function" ||
    typeof (clock as Clock).clearTimeout !== "function"
  ) {
    throw new TypeError(
      `${where}: "clock" must have now, setTimeout and clearTimeout methods, received ${
        _show(clock)
      }`,
    );
  }
  return {
    timeout,
    drainDelay,
    hookTimeout: _duration(where, "hookTimeout", options.hookTimeout, 5_000),
    streamGrace: _duration(where, "streamGrace", options.streamGrace, 250),
    sseFinalFrame: _sseFrame(where, options.sseFinalFrame),
    logger: _logger(where, options.logger),
    lifecycle: _lifecycleOf(where, options.lifecycle),
    clock: clock as Clock,
  };
}

function _lifecycleOf(where: string, value: unknown): _Lifecycle {
  if (value === undefined) return new _Lifecycle();
  if (!(value instanceof _Lifecycle)) {
    throw new TypeError(
      `${where}: "lifecycle" must be created by lifecycle(), received ${_show(value)}`,
    );
  }
  if (value.bound) {
    throw new TypeError(`${where}: this lifecycle already belongs to another server`);
  }
  return value;
}

function _sseFrame(where: string, value: unknown): Uint8Array | undefined {
  if (value === undefined) return new TextEncoder().encode("retry: 1000\n\n");
  if (value === false) return undefined;
  if (typeof value !== "string") {
    throw new TypeError(
      `${where}: "sseFinalFrame" must be a string or false, received ${_show(value)}`,
    );
  }
  if (!/(\r\n|\n|\r){2}$/.test(value)) {
    throw new RangeError(
      `${where}: "sseFinalFrame" must end with a blank line ("\\n\\n") so the client dispatches it, received ${
        _show(value)
      }`,
    );
  }
  return new TextEncoder().encode(value);
}

/** Resolves a handler argument: a function, or an object with a `fetch` method (a Hono app). */
export function _handlerOf<H extends FetchHandler>(where: string, handler: unknown): H {
  if (typeof handler === "function") return handler as H;
  if (
    typeof handler === "object" && handler !== null &&
    typeof (handler as { fetch?: unknown }).fetch === "function"
  ) {
    const target = handler as { fetch: H };
    return target.fetch.bind(target) as H;
  }
  throw new TypeError(
    `${where}: the handler must be a function or an object with a fetch method (such as a Hono app), received ${
      _show(handler)
    }`,
  );
}

/** Checks the `port` option: a whole number, or one written as digits (from the environment). */
export function _port(value: unknown): number {
  if (value === undefined) return 8000;
  const port = typeof value === "string" && /^\d{1,5}$/.test(value) ? Number(value) : value;
  if (typeof port !== "number" || !Number.isInteger(port)) {
    throw new TypeError(
      `serve(): "port" must be an integer (or a string of digits), received ${_show(value)}`,
    );
  }
  if (port < 0 || port > 65535) {
    throw new RangeError(`serve(): "port" must be between 0 and 65535, received ${_show(value)}`);
  }
  return port;
}

/** Checks the `tls` option. */
export function _tls(value: unknown): { cert: string; key: string } | undefined {
  if (value === undefined) return undefined;
  const tls = value as { cert?: unknown; key?: unknown };
  if (
    typeof value !== "object" || value === null || typeof tls.cert !== "string" ||
    typeof tls.key !== "string" || tls.cert === "" || tls.key === ""
  ) {
    throw new TypeError(
      `serve(): "tls" must be an object with PEM strings "cert" and "key", received ${
        _show(value)
      }`,
    );
  }
  return { cert: tls.cert, key: tls.key };
}

/** Checks Bun's `idleTimeout` option, in seconds. */
export function _idleTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 255) {
    throw new RangeError(
      `serve(): "idleTimeout" must be a whole number of seconds from 0 to 255 (Bun's range), received ${
        _show(value)
      }`,
    );
  }
  return value;
}

/** Checks a true/false option of serve(). */
export function _boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new TypeError(`serve(): "${name}" must be true or false, received ${_show(value)}`);
  }
  return value;
}

/** Checks the options of shutdown(): the reason and signal it reports. */
export function _shutdownOptions(options: unknown): { reason: string; signal: SignalName | null } {
  const opts = _optionsObject("shutdown()", options);
  _knownKeys("shutdown()", opts, ["reason", "signal"]);
  if (opts.reason !== undefined && typeof opts.reason !== "string") {
    throw new TypeError(`shutdown(): "reason" must be a string, received ${_show(opts.reason)}`);
  }
  if (opts.signal !== undefined && !_isSignalName(opts.signal)) {
    throw new TypeError(
      `shutdown(): "signal" must be a signal name such as "SIGTERM", received ${
        _show(opts.signal)
      }`,
    );
  }
  const signal = (opts.signal as SignalName | undefined) ?? null;
  const reason = (opts.reason as string | undefined) ??
    (signal ? `${signal} received` : "shutdown() called");
  return { reason, signal };
}

/** Checks a hook and its options; `count` names an unnamed hook. */
export function _hook(
  hook: unknown,
  options: HookOptions | undefined,
  hookTimeout: number,
  count: number,
): _Hook {
  if (typeof hook !== "function") {
    throw new TypeError(`onShutdown(): the hook must be a function, received ${_show(hook)}`);
  }
  const opts = _optionsObject("onShutdown()", options);
  _knownKeys("onShutdown()", opts, ["name", "timeout"]);
  if (opts.name !== undefined && typeof opts.name !== "string") {
    throw new TypeError(`onShutdown(): "name" must be a string, received ${_show(opts.name)}`);
  }
  return {
    fn: hook as ShutdownHook,
    name: (opts.name as string | undefined) || hook.name || `hook ${count + 1}`,
    timeout: _duration("onShutdown()", "timeout", opts.timeout, hookTimeout),
  };
}

/** Checks Bun's `websocket` handlers: an object with a `message` function. */
export function _websocketHandlers(handlers: unknown): void {
  const h = handlers as Record<string, unknown>;
  if (typeof handlers !== "object" || handlers === null || typeof h.message !== "function") {
    throw new TypeError(
      `websocket(): expected Bun's websocket handlers (an object with a message function), received ${
        _show(handlers)
      }`,
    );
  }
  for (const name of ["open", "close"]) {
    if (h[name] !== undefined && typeof h[name] !== "function") {
      throw new TypeError(`websocket(): "${name}" must be a function, received ${_show(h[name])}`);
    }
  }
}

/** Checks a `hostname` option: a non-empty string, or `undefined`. */
export function _hostname(where: string, value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== "string" || value === "")) {
    throw new TypeError(
      `${where}: "hostname" must be a non-empty string, received ${_show(value)}`,
    );
  }
  return value;
}

/** Checks a callback option: a function, or `undefined`. */
export function _callback<F extends (...args: never[]) => unknown>(
  where: string,
  name: string,
  value: unknown,
): F | undefined {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`${where}: "${name}" must be a function, received ${_show(value)}`);
  }
  return value as F | undefined;
}
