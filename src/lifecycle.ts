// The shutdown signal as an object of its own, created before the server exists, so that route
// modules can import it without importing the server (no circular imports).

import type { ShutdownState } from "./types.ts";

/**
 * The shutdown signal and state of one server, created first and handed to `serve()` or
 * `graceful()` later with the `lifecycle` option.
 *
 * @example A long job that stops at the shutdown
 * ```ts
 * import { type Lifecycle, lifecycle, serve } from "@graceful/serve";
 *
 * const life: Lifecycle = lifecycle();
 * async function work(signal: AbortSignal): Promise<void> {
 *   while (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 100));
 * }
 * work(life.signal);
 * serve(() => new Response(life.state), { port: 0, lifecycle: life });
 * ```
 */
export interface Lifecycle {
  /** Aborts with a {@linkcode ShutdownError} the moment the shutdown begins. */
  readonly signal: AbortSignal;
  /** `serving`, `draining` or `closed`. */
  readonly state: ShutdownState;
  /**
   * A signal that aborts when either the shutdown begins or this request's client goes away.
   * Built on demand (it costs ~1-3 µs), only for the requests that ask. On Deno, run with
   * `--unstable-no-legacy-abort` (or `"unstable": ["no-legacy-abort"]` in deno.json): in Deno's
   * default mode `request.signal` also aborts after every successful response, and touching it
   * costs throughput.
   */
  requestSignal(request: Request): AbortSignal;
}

/** The implementation; the graceful server drives it. */
export class _Lifecycle implements Lifecycle {
  readonly controller: AbortController = new AbortController();
  state: ShutdownState = "serving";
  bound = false;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  requestSignal(request: Request): AbortSignal {
    if (!(request instanceof Request)) {
      throw new TypeError(
        `requestSignal(): expected the handler's Request, received ${
          request === null ? "null" : typeof request
        }`,
      );
    }
    return AbortSignal.any([this.controller.signal, request.signal]);
  }
}

/**
 * Creates the shutdown signal of a server before the server exists. Hand it to `serve()` or
 * `graceful()` with the `lifecycle` option; one lifecycle belongs to one server.
 *
 * @returns A lifecycle whose `signal` aborts when that server starts shutting down.
 *
 * @example Routes in their own module
 * ```ts
 * // lifecycle.ts
 * import { lifecycle } from "@graceful/serve";
 * export const life = lifecycle();
 *
 * // routes.ts: uses life.signal, never imports the server
 * // main.ts:   serve(app, { lifecycle: life });
 * ```
 */
export function lifecycle(): Lifecycle {
  return new _Lifecycle();
}
