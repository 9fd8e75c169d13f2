/**
 * Hono glue for `@graceful/serve`: the shutdown signal on the context, typed
 * ({@linkcode shutdownSignal}, {@linkcode requestSignal}), the client-gone signal
 * ({@linkcode clientSignal}), and the readiness and liveness probes answered before any other
 * middleware ({@linkcode health}). Serve the app with `serve()` from the package's main entry
 * point.
 *
 * ```ts
 * import { Hono } from "hono";
 * import { lifecycle, serve } from "@graceful/serve";
 * import { type GracefulVariables, health, shutdownSignal } from "@graceful/serve/hono";
 *
 * const life = lifecycle();
 * const app = new Hono<{ Variables: GracefulVariables }>();
 * app.use(health(life)); // GET /readyz (503 once the shutdown began), GET /livez
 * app.use("/jobs/*", shutdownSignal(life)); // c.var.shutdown on these routes
 * app.get("/jobs/wait", async (c) => {
 *   await new Promise((resolve) => setTimeout(resolve, 500));
 *   return c.text(c.var.shutdown.aborted ? "done, and the server is leaving" : "done");
 * });
 * serve(app, { lifecycle: life, port: 0 });
 * ```
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { clientSignal as _clientSignalOf } from "./client_signal.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { _stateSource, type HasShutdownState, liveness, readiness } from "./health.ts";

/**
 * The variables {@linkcode shutdownSignal} sets on the Hono context.
 *
 * @example Typing an app whose routes read the signal
 * ```ts
 * import { Hono } from "hono";
 * import { lifecycle } from "@graceful/serve";
 * import { type GracefulVariables, shutdownSignal } from "@graceful/serve/hono";
 *
 * const life = lifecycle();
 * const app = new Hono<{ Variables: GracefulVariables }>();
 * app.use(shutdownSignal(life));
 * app.get("/state", (c) => c.text(`${c.var.lifecycle.state}, aborted: ${c.var.shutdown.aborted}`));
 * ```
 */
export interface GracefulVariables {
  /** Aborts when the server starts shutting down. */
  shutdown: AbortSignal;
  /** The lifecycle, for `state` and `requestSignal()`. */
  lifecycle: Lifecycle;
}

/**
 * Hono middleware that puts the shutdown signal on the context as `c.var.shutdown` (and the
 * lifecycle as `c.var.lifecycle`). Costs two `c.set` calls, only on the routes it is used on.
 *
 * @param lifecycle The lifecycle handed to `serve()` / `graceful()` (from `lifecycle()`).
 * @returns The middleware.
 * @throws {TypeError} when `lifecycle` has no `signal`.
 *
 * @example Ending a streamSSE loop cleanly
 * ```ts
 * import { Hono } from "hono";
 * import { streamSSE } from "hono/streaming";
 * import { lifecycle, serve } from "@graceful/serve";
 * import { type GracefulVariables, shutdownSignal } from "@graceful/serve/hono";
 *
 * const life = lifecycle();
 * const app = new Hono<{ Variables: GracefulVariables }>();
 * app.use("/events/*", shutdownSignal(life));
 * app.get("/events/ticks", (c) =>
 *   streamSSE(c, async (stream) => {
 *     while (!c.var.shutdown.aborted) {
 *       await stream.writeSSE({ data: "tick" });
 *       await stream.sleep(1000);
 *     }
 *     await stream.writeSSE({ event: "shutdown", data: "bye", retry: 1000 });
 *   }));
 * serve(app, { lifecycle: life });
 * ```
 */
export function shutdownSignal(
  lifecycle: Lifecycle,
): MiddlewareHandler<{ Variables: GracefulVariables }> {
  if (
    typeof lifecycle !== "object" || lifecycle === null ||
    !((lifecycle as { signal?: unknown }).signal instanceof AbortSignal)
  ) {
    throw new TypeError(
      `shutdownSignal(): expected the lifecycle from lifecycle(), received ${
        lifecycle === null ? "null" : typeof lifecycle
      }`,
    );
  }
  return async (c, next) => {
    c.set("shutdown", lifecycle.signal);
    c.set("lifecycle", lifecycle);
    await next();
  };
}

/**
 * A signal that aborts when the shutdown begins or the client of this request goes away, for a
 * route that uses {@linkcode shutdownSignal}. Not for proxies: it aborts every request in flight
 * at a shutdown, which the drain exists to let finish; use {@linkcode clientSignal} there.
 *
 * @param c The Hono context.
 * @returns `AbortSignal.any([shutdown, c.req.raw.signal])`.
 * @throws {TypeError} when the route does not use the `shutdownSignal()` middleware.
 *
 * @example A long poll that answers at once when the shutdown begins
 * ```ts
 * import { Hono } from "hono";
 * import { type GracefulVariables, requestSignal } from "@graceful/serve/hono";
 *
 * declare function nextMessage(signal: AbortSignal): Promise<string>;
 * const app = new Hono<{ Variables: GracefulVariables }>();
 * app.get("/poll", async (c) => {
 *   const message = await nextMessage(requestSignal(c)).catch(() => null);
 *   return message === null ? c.body(null, 204) : c.text(message);
 * });
 * ```
 */
export function requestSignal(c: Context<{ Variables: GracefulVariables }>): AbortSignal {
  const lifecycle = c.get("lifecycle");
  if (lifecycle === undefined) {
    throw new TypeError(
      "requestSignal(): this route does not use the shutdownSignal() middleware",
    );
  }
  return lifecycle.requestSignal(c.req.raw);
}

/**
 * A signal that aborts when the client of this request went away, and never because the server
 * is shutting down (see `clientSignal()` in the main entry point): for an upstream `fetch()` or a
 * computation only this client waits for. Needs no middleware.
 *
 * @param c The Hono context (any context: only `c.req.raw` is read).
 * @returns The request's client-gone signal.
 * @throws {TypeError} when `c.req.raw` is not a `Request`.
 *
 * @example A proxy that a shutdown does not cut
 * ```ts
 * import { Hono } from "hono";
 * import { clientSignal } from "@graceful/serve/hono";
 *
 * const app = new Hono();
 * app.get("/api/*", (c) =>
 *   fetch(new URL(c.req.path, "http://upstream:8080"), { signal: clientSignal(c) }));
 * ```
 */
export function clientSignal(c: { readonly req: { readonly raw: Request } }): AbortSignal {
  return _clientSignalOf(c.req.raw);
}

/**
 * Options of {@linkcode health}.
 *
 * @example Probe paths of your own
 * ```ts
 * import { Hono } from "hono";
 * import { lifecycle } from "@graceful/serve";
 * import { health, type HealthOptions } from "@graceful/serve/hono";
 *
 * const life = lifecycle();
 * const paths: HealthOptions = { readiness: "/ready", liveness: "/alive" };
 * const app = new Hono();
 * app.use(health(life, paths));
 * ```
 */
export interface HealthOptions {
  /**
   * Path of the readiness endpoint (200 while serving, 503 once the shutdown began).
   * @default "/readyz"
   */
  readiness?: string;
  /**
   * Path of the liveness endpoint (200 until the process exits).
   * @default "/livez"
   */
  liveness?: string;
}

/**
 * Hono middleware that answers the readiness and liveness probes (GET and HEAD) before any other
 * middleware runs, so that auth or logging middleware never gets in the way of a probe.
 *
 * @param source The lifecycle handed to `serve()`, or the server itself.
 * @param options The two paths.
 * @returns The middleware.
 * @throws {TypeError} when `source` has no shutdown state or a path does not start with `/`.
 *
 * @example Probes that no auth middleware can block
 * ```ts
 * import { Hono } from "hono";
 * import { lifecycle, serve } from "@graceful/serve";
 * import { health } from "@graceful/serve/hono";
 *
 * const life = lifecycle();
 * const app = new Hono();
 * app.use(health(life)); // GET /readyz, GET /livez
 * app.get("/", (c) => c.text("hello"));
 * serve(app, { lifecycle: life });
 * ```
 */
export function health(source: HasShutdownState, options: HealthOptions = {}): MiddlewareHandler {
  const target = _stateSource("health()", source);
  const paths = { readiness: "/readyz", liveness: "/livez", ...options };
  for (const [name, path] of Object.entries(paths)) {
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw new TypeError(
        `health(): "${name}" must be a path starting with "/", received ${JSON.stringify(path)}`,
      );
    }
  }
  const ready = readiness(target);
  const live = liveness();
  return async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD") {
      const path = c.req.path;
      if (path === paths.readiness) return ready();
      if (path === paths.liveness) return live();
    }
    await next();
    return undefined;
  };
}
