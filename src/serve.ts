// serve(): detect the runtime, listen, install signal handlers, apply the exit policy.

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
  _tls,
} from "./options.ts";
import { _detectRuntime } from "./runtime/detect.ts";
import type { _Fetch, _Runtime } from "./runtime/types.ts";
import type { Clock } from "./clock.ts";
import { _loudLogger, type Logger } from "./logger.ts";
import { _releaseInstance, _replaceInstance, type _Retire, type _Successor } from "./reload.ts";
import { _signals, SIGNAL_NUMBERS, type SignalName } from "./signals.ts";
import type { FetchHandler, Graceful, GracefulOptions } from "./types.ts";

/** Options of {@linkcode serve}: the {@linkcode GracefulOptions} plus where to listen. */
export interface ServeOptions extends GracefulOptions {
  /**
   * TCP port; 0 picks a free one (read it back from `server.port`). A string of digits (say,
   * from an environment variable) is accepted too.
   * @default 8000
   */
  port?: number | string;
  /**
   * Interface to listen on.
   * @default "0.0.0.0"
   */
  hostname?: string;
  /**
   * Serve HTTPS with this PEM certificate chain and key (the contents, not file names).
   * @default undefined (plain HTTP)
   */
  tls?: { cert: string; key: string };
  /**
   * Node: with `tls`, serve HTTP/2 (`node:http2`), and HTTP/1.1 on the same port to clients that
   * do not offer h2. Deno negotiates HTTP/2 over `tls` without it; Bun's serve() speaks HTTP/1.1
   * only (there it is logged as having no effect). See docs/http2.md.
   * @default false
   */
  http2?: boolean;
  /**
   * Let several processes listen on the same port (SO_REUSEPORT; Deno needs `--unstable-net`).
   * @default false
   */
  reusePort?: boolean;
  /**
   * Bun: your `websocket` handlers for `Bun.serve` (or `websocket` from `hono/bun`). They are
   * wrapped so that every socket is tracked; your code does not change. Node: what
   * `createNodeWebSocket({ app })` from @hono/node-ws returned; serve() injects it into the
   * server and tracks its sockets. On Deno, sockets made by `Deno.upgradeWebSocket` (and Hono's
   * `upgradeWebSocket` from `hono/deno`) are tracked without this option.
   * @default undefined
   */
  websocket?: object;
  /**
   * Bun only: seconds a connection may stay silent (no request, no bytes written) before Bun closes
   * it; 0 turns it off. Bun 1.4 applies it in 4-second steps and also to handlers that have not
   * answered yet, so an SSE route needs heartbeats well within it (or 0). On Deno and Node the
   * option is logged as having no effect.
   * @default Bun's own (10, i.e. about 12 s)
   */
  idleTimeout?: number;
  /**
   * Signals that start the shutdown; a second one during the drain exits at once with 128 + n.
   * An empty array installs no signal handler.
   * @default ["SIGTERM", "SIGINT"]
   */
  signals?: readonly SignalName[];
  /**
   * Exit the process when the shutdown finishes: 0 if everything drained and every hook
   * succeeded, 1 otherwise. Turn off to use `serve()` in tests or to exit yourself.
   * @default true
   */
  exit?: boolean;
  /**
   * Called once the server listens.
   * @default logs `listening on <url>` through the logger
   */
  onListen?: (address: { hostname: string; port: number; url: URL }) => void;
}

/** A running server: the {@linkcode Graceful} controls plus its address. */
export interface Server<H extends FetchHandler = FetchHandler> extends Graceful<H> {
  /** The address actually bound (e.g. `127.0.0.1`). */
  readonly hostname: string;
  /**
   * The port actually bound (useful with `port: 0`). On Node binding is asynchronous: until
   * `onListen` runs it is the port asked for (0 for any).
   */
  readonly port: number;
  /** `http://hostname:port/`, or `https://` with `tls`. */
  readonly url: URL;
}

const _SERVE_KEYS = [
  ..._GRACEFUL_KEYS,
  "port",
  "hostname",
  "tls",
  "http2",
  "reusePort",
  "websocket",
  "idleTimeout",
  "signals",
  "exit",
  "onListen",
] as const;

class _Served<H extends FetchHandler> extends _GracefulServer<H> implements Server<H> {
  hostname = "";
  port = 0;
  url: URL = new URL("http://localhost/");
}

/**
 * The serve() servers of one process that will exit it: the process exits once the last of them
 * has finished (one signal shuts them all down), with the worst exit code among them.
 */
class _ExitBarrier {
  #pending = new Set<object>();
  #code = 0;

  add(server: object): void {
    this.#pending.add(server);
  }

  finish(server: object, code: number, exit: (code: number) => void): void {
    this.#pending.delete(server);
    this.#code = Math.max(this.#code, code);
    if (this.#pending.size > 0) return;
    const worst = this.#code;
    this.#code = 0;
    exit(worst);
  }

  /** Forgets a server that will not finish (a reloaded module replaced it). */
  drop(server: object): void {
    this.#pending.delete(server);
  }
}

/**
 * Milliseconds after the first stop request during which the same request arriving again is
 * not a second signal (srvx and others use about a second for CLIs).
 */
const _REPEAT_WINDOW_MS = 1000;

// One barrier per process (keyed by the runtime's process object); the only module-level state,
// because exiting is a property of the process, not of one server.
const _barriers = new WeakMap<object, _ExitBarrier>();

/**
 * Starts a server on the current runtime (Deno, Bun, or Node with `@hono/node-server`) that shuts
 * down gracefully on SIGTERM and
 * SIGINT: it stops accepting, lets in-flight requests finish (each later response carries
 * `Connection: close`), cuts what is left at the deadline, runs the cleanup hooks and exits with
 * 0 (drained) or 1 (work was cut or a hook failed). A second signal exits at once with 128 + n.
 *
 * @param handler A fetch function, or an object with a `fetch` method such as a Hono app.
 * @param options Where to listen, the deadline, signals and exit policy.
 * @returns The running server with its address and shutdown controls.
 * @throws {TypeError} for a handler that is not a function or an object with `fetch`, an
 * unknown option, an unknown signal name, or an option of the wrong type.
 * @throws {RangeError} for a negative or non-finite duration, or a port out of range.
 *
 * @example A Hono app on Deno, Bun or Node
 * ```ts
 * import { Hono } from "hono";
 * import { serve } from "@graceful/serve";
 *
 * const app = new Hono();
 * app.get("/", (c) => c.text("ok"));
 *
 * const server = serve(app, { port: 8000, timeout: 10_000 });
 * server.onShutdown(() => console.error("closing the database"));
 * ```
 */
export function serve<H extends FetchHandler>(
  handler: H | { fetch: H },
  options?: ServeOptions,
): Server<H> {
  return _serveOn(undefined, handler, options);
}

/** serve() on a given runtime (tests inject one). */
export function _serveOn<H extends FetchHandler>(
  runtime: _Runtime | undefined,
  handler: H | { fetch: H },
  options?: ServeOptions,
): Server<H> {
  const where = "serve()";
  const fetch = _handlerOf<H>(where, handler);
  const opts = _optionsObject(where, options);
  _knownKeys(where, opts, _SERVE_KEYS);
  const settings = _settings(where, opts);
  const port = _port(opts.port);
  const hostname = _hostname(where, opts.hostname) ?? "0.0.0.0";
  const tls = _tls(opts.tls);
  const http2 = _boolean("http2", opts.http2, false);
  if (http2 && tls === undefined) {
    throw new TypeError(
      `serve(): "http2" needs "tls" (HTTP/2 is served over TLS), received http2: true without tls`,
    );
  }
  const reusePort = _boolean("reusePort", opts.reusePort, false);
  const exit = _boolean("exit", opts.exit, true);
  const idleTimeout = _idleTimeout(opts.idleTimeout);
  const signals = _signals(where, opts.signals, ["SIGTERM", "SIGINT"]);
  const onListen = _callback<NonNullable<ServeOptions["onListen"]>>(
    where,
    "onListen",
    opts.onListen,
  );

  const rt = runtime ?? _detectRuntime(where);
  if (opts.websocket !== undefined && rt.name !== "bun" && rt.name !== "node") {
    throw new TypeError(
      `serve(): "websocket" handlers are for Bun.serve; on ${rt.name}, sockets made by ` +
        `Deno.upgradeWebSocket (or Hono's upgradeWebSocket) are tracked without them`,
    );
  }
  if (idleTimeout !== undefined && rt.name !== "bun") {
    settings.logger.warn(
      `serve(): "idleTimeout" has no effect on ${rt.name} (it has no idle timeout)`,
    );
  }
  if (http2 && rt.name === "bun") {
    settings.logger.warn(
      `serve(): "http2" has no effect on bun (its serve() speaks HTTP/1.1 over TLS; use ` +
        `graceful() with Bun.serve({ http2: true, tls }))`,
    );
  }
  const server = new _Served<H>(fetch, settings);
  const websocket = opts.websocket === undefined
    ? undefined
    : server.websocket(opts.websocket as object);
  let listening: ReturnType<_Runtime["listen"]>;
  try {
    listening = rt.listen(
      { port, hostname, tls, http2, reusePort, websocket, idleTimeout },
      server.fetch as unknown as _Fetch,
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`serve(): cannot listen on ${hostname}:${port}: ${message}`, {
      cause: error,
    });
  }
  server._attachAdapted(listening.server);
  const address = (bound: { hostname: string; port: number }): void => {
    server.hostname = bound.hostname;
    server.port = bound.port;
    const host = bound.hostname.includes(":") ? `[${bound.hostname}]` : bound.hostname;
    server.url = new URL(`${tls ? "https" : "http"}://${host}:${bound.port}/`);
  };
  address(listening);

  const { logger, clock } = settings;
  _ownProcess(rt, server, { signals, exit, logger, clock, key: listening.key });

  const listened = (): void => {
    if (onListen) onListen({ hostname: server.hostname, port: server.port, url: server.url });
    else logger.info(`listening on ${server.url.href}`);
  };
  if (listening.bound === undefined) listened();
  else {
    // Node reports a listen error (EADDRINUSE) after serve() returned: the same message as the
    // other runtimes throw (on stderr even with `logger: false`, as a throw would be), then the
    // shutdown, which fails (exit 1) since the server never listened.
    listening.bound.then((bound) => (address(bound), listened()), (error: Error) => {
      _loudLogger(logger).error(`serve(): cannot listen on ${hostname}:${port}: ${error.message}`);
      server.shutdown({ reason: "the server could not listen" });
    });
  }
  return server;
}

/** What {@linkcode _ownProcess} needs of a graceful server. */
type _Owned =
  & Pick<
    _GracefulServer<FetchHandler>,
    "state" | "signal" | "shutdown" | "finished" | "_forceNow"
  >
  & { _replacedBy?(next: _Successor): void };

/**
 * serve()'s process policy for a server: `signals` start its shutdown (the same signal again
 * within a second is the same stop request; a later one exits at once with 128 + n, or cuts
 * in-flight work when exiting is off), and once it finished the process exits through `finish`
 * (the runtime's exit unless given) after the last server of the process that exits it. With a
 * `key` (what a hot-reloaded module starts again: Bun's server, the process's default export),
 * a later instance with the same key takes over: the earlier one's listeners go, it no longer
 * holds the exit, and its shutdown is the later one's.
 */
export function _ownProcess(
  rt: _Runtime,
  server: _Owned,
  options: {
    signals: readonly SignalName[];
    exit: boolean;
    logger: Logger;
    clock: Clock;
    finish?: (code: number) => void;
    key?: object;
  },
): void {
  const { signals, exit, logger, clock } = options;
  const finish = options.finish ?? ((code: number) => rt.exit(code));
  // When the first stop request arrived (a signal, or the shutdown began some other way).
  let stopAt: number | undefined;
  server.signal.addEventListener("abort", () => stopAt ??= clock.now(), { once: true });
  const { key } = options;
  let retire: _Retire | undefined;
  let uninstall: (() => void)[] = [];
  let exiting: _ExitBarrier | undefined;
  if (key !== undefined) {
    retire = (next) => {
      for (const remove of uninstall) remove();
      exiting?.drop(server);
      server._replacedBy?.(next);
    };
    // Before this instance's listeners: Bun 1.2.23 stops delivering a signal once a listener of
    // it is removed, even when another one was added before.
    if (_replaceInstance(key, server, retire)) {
      logger.info("the reloaded module's server replaces the previous instance");
    }
  }
  uninstall = signals.map((name) =>
    rt.onSignal(name, () => {
      if (server.state === "serving") {
        logger.info(`${name} received`);
        stopAt = clock.now();
        server.shutdown({ signal: name });
        return;
      }
      // A wrapper (npm, a shell) forwards the signal while the terminal or `kill -- -PGID` also
      // sends it to the whole group: one stop request arriving twice is not a second signal.
      if (stopAt === undefined || clock.now() - stopAt < _REPEAT_WINDOW_MS) {
        logger.info(`${name} received: the shutdown under way continues`);
        return;
      }
      if (exit) {
        const code = 128 + SIGNAL_NUMBERS[name];
        logger.warn(`${name} received again during the shutdown: exiting now with ${code}`);
        rt.exit(code);
      } else {
        logger.warn(`${name} received again during the shutdown: cutting in-flight work now`);
        server._forceNow();
      }
    })
  );
  if (exit) {
    const key = rt.process ?? rt;
    exiting = _barriers.get(key) ?? new _ExitBarrier();
    _barriers.set(key, exiting);
    exiting.add(server);
  }
  server.finished.then((report) => {
    if (retire !== undefined) _releaseInstance(key!, retire);
    for (const remove of uninstall) remove();
    exiting?.finish(server, report.exitCode, finish);
  });
}
