// Health endpoints for load balancers and Kubernetes: readiness turns 503 the moment the shutdown
// begins (so traffic moves away during the drain), liveness stays 200 until the process exits
// (failing it during a drain gets the process killed before its work is done).

import type { ShutdownState } from "./types.ts";

/**
 * Anything that knows the shutdown state: a {@linkcode Lifecycle}, a server from `serve()`.
 *
 * @example A readiness probe from the server itself
 * ```ts
 * import { type HasShutdownState, readiness, serve } from "@graceful/serve";
 *
 * const server = serve(() => new Response("ok"), { port: 0 });
 * const source: HasShutdownState = server;
 * const ready = readiness(source);
 * ```
 */
export interface HasShutdownState {
  /** `serving`, `draining` or `closed`. */
  readonly state: ShutdownState;
}

const _HEADERS = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };

/** Validates the argument of readiness() and health(). */
export function _stateSource(where: string, value: unknown): HasShutdownState {
  const state = (value as { state?: unknown } | null)?.state;
  if (
    typeof value !== "object" || value === null ||
    (state !== "serving" && state !== "draining" && state !== "closed")
  ) {
    throw new TypeError(
      `${where}: expected a lifecycle (from lifecycle()) or a server (from serve() or graceful()), received ${
        value === null ? "null" : typeof value
      }`,
    );
  }
  return value as HasShutdownState;
}

/**
 * A readiness endpoint: `200 ready` while serving, `503 shutting down` from the moment the
 * shutdown begins. The body says nothing else. The handler ignores its arguments, so it serves as
 * a plain fetch handler and as a Hono handler alike.
 *
 * @param source The lifecycle handed to `serve()`, or the server itself.
 * @returns A handler answering the probe.
 * @throws {TypeError} when `source` has no shutdown state.
 *
 * @example Kubernetes readiness probe on a Hono app
 * ```ts
 * import { Hono } from "hono";
 * import { lifecycle, liveness, readiness, serve } from "@graceful/serve";
 *
 * const life = lifecycle();
 * const app = new Hono();
 * app.get("/readyz", readiness(life));
 * app.get("/livez", liveness());
 * serve(app, { lifecycle: life, drainDelay: 5_000 });
 * ```
 */
export function readiness(source: HasShutdownState): () => Response {
  const target = _stateSource("readiness()", source);
  return () =>
    target.state === "serving"
      ? new Response("ready\n", { headers: _HEADERS })
      : new Response("shutting down\n", { status: 503, headers: _HEADERS });
}

/**
 * A liveness endpoint: `200 ok` for as long as the process runs, draining included. A liveness
 * probe that failed during the drain would get the process killed before its work is done.
 *
 * @returns A handler answering the probe (plain fetch handler or Hono handler).
 *
 * @example A liveness probe in a plain fetch handler
 * ```ts
 * import { liveness } from "@graceful/serve";
 *
 * const live = liveness();
 * const handler = (req: Request): Response =>
 *   new URL(req.url).pathname === "/livez" ? live() : new Response("hello");
 * ```
 */
export function liveness(): () => Response {
  return () => new Response("ok\n", { headers: _HEADERS });
}
