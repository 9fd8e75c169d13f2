/**
 * Graceful shutdown for web-standard servers on Deno, Bun and Node, Hono apps first.
 *
 * Every request is tracked until its response is delivered; on SIGTERM or SIGINT the listener
 * closes, in-flight work finishes (with `Connection: close`), anything left at the deadline is
 * cut, cleanup hooks run and the process exits with a meaningful code.
 *
 * ```ts
 * import { Hono } from "hono";
 * import { serve } from "@graceful/serve";
 *
 * const app = new Hono();
 * app.get("/", (c) => c.text("ok"));
 *
 * const server = serve(app, { port: 8000, timeout: 10_000 });
 * server.onShutdown(() => console.error("closing resources")); // cleanup, after the drain
 * // On SIGTERM or SIGINT: drain, run the hooks, log the report, exit 0 (or 1 if work was cut).
 * ```
 *
 * The Hono middleware (the signal on the context, health probes) is in `@graceful/serve/hono`.
 *
 * @module
 */

export { ShutdownError } from "./src/errors.ts";
export { type Lifecycle, lifecycle } from "./src/lifecycle.ts";
export { clientSignal } from "./src/client_signal.ts";
export { type HasShutdownState, liveness, readiness } from "./src/health.ts";
export { graceful } from "./src/graceful.ts";
export type {
  CutDetail,
  FetchHandler,
  Graceful,
  GracefulOptions,
  ShutdownOptions,
  ShutdownReport,
  ShutdownState,
} from "./src/types.ts";
export type { HookOptions, HookReport, ShutdownHook } from "./src/hooks.ts";
export { type Logger, stderrLogger } from "./src/logger.ts";
export type { Clock, TimerId } from "./src/clock.ts";
export { serve, type ServeOptions, type Server } from "./src/serve.ts";
export {
  type GracefulExport,
  gracefulExport,
  type GracefulExportOptions,
} from "./src/default_export.ts";
export { SIGNAL_NUMBERS, type SignalName } from "./src/signals.ts";
