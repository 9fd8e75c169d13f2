// gracefulExport(): serve()'s shutdown for a module whose default export the runtime serves
// itself (`deno serve`, also --parallel; `bun run file.ts`). The runtime listens; the library takes
// the server it starts and applies serve()'s signals and exit policy to it.

import { _GracefulServer } from "./graceful.ts";
import {
  _boolean,
  _callback,
  _GRACEFUL_KEYS,
  _handlerOf,
  _hostname,
  _idleTimeout,
  _knownKeys,
  _optionsObject,
  _port,
  _settings,
} from "./options.ts";
import { stderrLogger } from "./logger.ts";
import { _detectDefaultExport } from "./runtime/detect.ts";
import type { _DefaultExportRuntime } from "./runtime/types.ts";
import { _ownProcess, type ServeOptions } from "./serve.ts";
import { _signals } from "./signals.ts";
import type { FetchHandler, Graceful } from "./types.ts";

/**
 * Options of {@linkcode gracefulExport}: those of {@linkcode serve} that a runtime serving the
 * default export leaves to the library, and Bun's address.
 */
export interface GracefulExportOptions
  extends Omit<ServeOptions, "port" | "hostname" | "tls" | "reusePort" | "exit" | "onListen"> {
  /**
   * Bun only: the port Bun listens on (a string of digits is accepted). `deno serve` takes it
   * from `--port`.
   * @default Bun's own: $BUN_PORT, $PORT or $NODE_PORT, else 3000
   */
  port?: number | string;
  /**
   * Bun only: the interface Bun listens on. `deno serve` takes it from `--host`.
   * @default Bun's own ("0.0.0.0")
   */
  hostname?: string;
  /**
   * Exit the process when the shutdown finishes: 0 if everything drained and every hook
   * succeeded, 1 otherwise. Under `deno serve --parallel` each worker sets its exit code and the
   * process exits once every worker has finished (Deno.exit in one worker would end them all).
   * @default true
   */
  exit?: boolean;
  /**
   * Called once the runtime listens (under `deno serve --parallel`, in its first worker only).
   * @default the runtime's own line (`deno serve: Listening on …`, `Started … server: …`)
   */
  onListen?: (address: { hostname: string; port: number; url: URL }) => void;
}

/**
 * What {@linkcode gracefulExport} returns: the object to `export default`, with the shutdown
 * controls of {@linkcode Graceful} and the options the runtime reads to listen.
 */
export interface GracefulExport<H extends FetchHandler = FetchHandler>
  extends Omit<Graceful<H>, "attach" | "websocket"> {
  /** Bun's port, when given. */
  readonly port?: number;
  /** Bun's hostname, when given. */
  readonly hostname?: string;
  /** Bun's `websocket` handlers, wrapped for tracking, when given. */
  readonly websocket?: object;
  /** Bun's idle timeout, when given. */
  readonly idleTimeout?: number;
  /** `deno serve`'s listen callback, when `onListen` was given. */
  readonly onListen?: (address: { hostname: string; port: number }) => void;
}

const _EXPORT_KEYS = [
  ..._GRACEFUL_KEYS,
  "port",
  "hostname",
  "websocket",
  "idleTimeout",
  "signals",
  "exit",
  "onListen",
] as const;

/**
 * Makes a handler the default export that `deno serve` (also with `--parallel`) and Bun
 * (`bun run file.ts`) serve, with the shutdown of {@linkcode serve}: on SIGTERM or SIGINT the
 * listener closes after a lame duck, in-flight requests finish (later responses carry
 * `Connection: close`), SSE streams end with a final frame, what is left at the deadline is cut,
 * the cleanup hooks run and the process exits with 0 (drained) or 1. A second signal exits at
 * once with 128 + n.
 *
 * @param handler A fetch function, or an object with a `fetch` method such as a Hono app.
 * @param options The deadline, signals and exit policy; Bun's port, hostname and websocket.
 * @returns The object to `export default`, with the shutdown controls.
 * @throws {TypeError} for a handler that is not a function or an object with `fetch`, an
 * unknown option, an unknown signal name, an option of the wrong type, or `websocket` on Deno.
 * @throws {RangeError} for a negative or non-finite duration, or a port out of range.
 *
 * @example A Hono app for `deno serve` and `bun run`
 * ```ts
 * import { Hono } from "hono";
 * import { gracefulExport } from "@graceful/serve";
 *
 * const app = new Hono();
 * app.get("/", (c) => c.text("ok"));
 *
 * const server = gracefulExport(app, { timeout: 10_000 });
 * server.onShutdown(() => console.error("closing the database"));
 * export { server as default }; // the same as `export default server`
 * // deno serve --port 8000 main.ts     or     PORT=8000 bun run main.ts
 * ```
 */
export function gracefulExport<H extends FetchHandler>(
  handler: H | { fetch: H },
  options?: GracefulExportOptions,
): GracefulExport<H> {
  return _gracefulExportOn(undefined, handler, options);
}

/** gracefulExport() on a given runtime (tests inject one). */
export function _gracefulExportOn<H extends FetchHandler>(
  runtime: _DefaultExportRuntime | undefined,
  handler: H | { fetch: H },
  options?: GracefulExportOptions,
): GracefulExport<H> {
  const where = "gracefulExport()";
  const fetch = _handlerOf<H>(where, handler);
  const opts = _optionsObject(where, options);
  _knownKeys(where, opts, _EXPORT_KEYS);
  // It owns the process like serve(): it logs to stderr unless told otherwise.
  const settings = _settings(where, { logger: stderrLogger, ...opts });
  const port = opts.port === undefined ? undefined : _port(opts.port);
  const hostname = _hostname(where, opts.hostname);
  const exit = _boolean("exit", opts.exit, true);
  const idleTimeout = _idleTimeout(opts.idleTimeout);
  const signals = _signals(where, opts.signals, ["SIGTERM", "SIGINT"]);
  const onListen = _callback<NonNullable<GracefulExportOptions["onListen"]>>(
    where,
    "onListen",
    opts.onListen,
  );

  const rt = runtime ?? _detectDefaultExport(where);
  const name = rt.runtime.name;
  if (opts.websocket !== undefined && name !== "bun") {
    throw new TypeError(
      `${where}: "websocket" handlers are for Bun; on ${name}, sockets made by ` +
        `Deno.upgradeWebSocket (or Hono's upgradeWebSocket) are tracked without them`,
    );
  }
  if (idleTimeout !== undefined && name !== "bun") {
    settings.logger.warn(`${where}: "idleTimeout" has no effect on ${name}`);
  }
  const server = new _GracefulServer<H>(fetch, settings);
  let heard = false;
  const listened = onListen === undefined
    ? undefined
    : (address: { hostname: string; port: number }): void => {
      heard = true;
      const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
      onListen({ ...address, url: new URL(`http://${host}:${address.port}/`) });
    };
  const exported: GracefulExport<H> = {
    fetch: server.fetch,
    ...(port === undefined ? {} : { port }),
    ...(hostname === undefined ? {} : { hostname }),
    ...(opts.websocket === undefined
      ? {}
      : { websocket: server.websocket(opts.websocket as object) }),
    ...(idleTimeout === undefined ? {} : { idleTimeout }),
    // deno serve calls onListen itself; Bun has none, the address comes with its server.
    ...(listened !== undefined && name === "deno" ? { onListen: listened } : {}),
    get signal() {
      return server.signal;
    },
    get state() {
      return server.state;
    },
    get lifecycle() {
      return server.lifecycle;
    },
    get inFlight() {
      return server.inFlight;
    },
    get webSockets() {
      return server.webSockets;
    },
    finished: server.finished,
    requestSignal: (request) => server.requestSignal(request),
    onShutdown: (hook, hookOptions) => server.onShutdown(hook, hookOptions),
    shutdown: (shutdownOptions) => server.shutdown(shutdownOptions),
  };
  rt.capture(
    exported,
    (taken, address) => {
      server._attachAdapted(taken);
      // deno serve calls the export's onListen inside Deno.serve (2.9.5); 2.2.15 does not.
      if (address !== undefined && !heard) listened?.(address);
    },
    () => server.shutdown({ reason: `${name}'s own stop signal handling` }).then(() => {}),
    () =>
      settings.logger.warn(
        `${where}: ${name} served the default export without the global Bun.serve; the ` +
          `library took its server from the first request, so a shutdown before any request ` +
          `leaves the listener to the process exit. serve(app, { port }) does not depend on ` +
          `how ${name} starts a default export`,
      ),
  );
  const { logger, clock } = settings;
  // One default export per process: under `bun --hot` the reloaded module's replaces the last.
  const key = rt.runtime.process ?? rt.runtime;
  const finish = (code: number): void => rt.finish(code);
  _ownProcess(rt.runtime, server, { signals, exit, logger, clock, finish, key });
  return exported;
}
