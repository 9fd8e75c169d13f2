// OS signal names, numbers and validation. Installing listeners is the runtime adapter's job;
// nothing here runs at import time.

import { _show } from "./options.ts";

/**
 * The signals `serve()` can listen to. `SIGBREAK` exists on Windows only.
 *
 * @example Shutting down on SIGTERM only (Ctrl-C then kills at once)
 * ```ts
 * import { serve, type SignalName } from "@graceful/serve";
 *
 * const signals: SignalName[] = ["SIGTERM"];
 * serve(() => new Response("ok"), { port: 0, signals });
 * ```
 */
export type SignalName =
  | "SIGTERM"
  | "SIGINT"
  | "SIGHUP"
  | "SIGQUIT"
  | "SIGUSR1"
  | "SIGUSR2"
  | "SIGBREAK";

/**
 * Linux signal numbers, for exit codes of 128 + n.
 *
 * @example The exit code of a second SIGTERM
 * ```ts
 * import { SIGNAL_NUMBERS } from "@graceful/serve";
 *
 * const code = 128 + SIGNAL_NUMBERS.SIGTERM; // 143
 * ```
 */
export const SIGNAL_NUMBERS: Readonly<Record<SignalName, number>> = Object.freeze({
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGTERM: 15,
  SIGBREAK: 21,
});

const _NAMES = Object.keys(SIGNAL_NUMBERS) as SignalName[];

/** Whether `value` is a supported signal name. */
export function _isSignalName(value: unknown): value is SignalName {
  return typeof value === "string" && (_NAMES as string[]).includes(value);
}

/** Checks the `signals` option: an array of distinct supported signal names. */
export function _signals(
  where: string,
  value: unknown,
  fallback: readonly SignalName[],
): SignalName[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value)) {
    throw new TypeError(
      `${where}: "signals" must be an array of signal names, received ${_show(value)}`,
    );
  }
  for (const name of value) {
    if (!_isSignalName(name)) {
      throw new TypeError(
        `${where}: "signals" contains ${_show(name)}, expected one of ${_NAMES.join(", ")}`,
      );
    }
  }
  return [...new Set(value as SignalName[])];
}
