// The graceful server: wraps the fetch handler (the per-request hot path below), holds what the
// shutdown works on, and hands the runtime-specific parts to the adapter of the runtime it runs
// on. It never exits the process and never installs a listener; serve() adds that policy.

import type { _HeldBody } from "./body.ts";
import type { _Hook, HookOptions, ShutdownHook } from "./hooks.ts";
import { _InFlight } from "./in_flight.ts";
import type { _Lifecycle, Lifecycle } from "./lifecycle.ts";
import {
  _GRACEFUL_KEYS,
  _handlerOf,
  _hook,
  _knownKeys,
  _optionsObject,
  type _Settings,
  _settings,
  _shutdownOptions,
  _websocketHandlers,
} from "./options.ts";
import { _bunWebSocketHandlers, type _BunWebSocketLike } from "./runtime/bun/websocket.ts";
import { _isNodeWebSockets, _trackNodeWebSockets } from "./runtime/node/websocket.ts";
import { _adaptServer, _host } from "./runtime/detect.ts";
import type { _Core, _Host, _Respond, _RuntimeServer } from "./runtime/types.ts";
import { _releaseInstance, _replaceInstance, type _Successor } from "./reload.ts";
import { _Shutdown } from "./shutdown.ts";
import { _Streams } from "./streams.ts";
import type {
  FetchHandler,
  Graceful,
  GracefulOptions,
  ShutdownOptions,
  ShutdownReport,
  ShutdownState,
} from "./types.ts";

/** The implementation behind {@linkcode graceful}; serve() also uses its internal methods. */
export class _GracefulServer<H extends FetchHandler> implements Graceful<H> {
  readonly fetch: H;
  readonly finished: Promise<ShutdownReport>;
  #settings: _Settings;
  #life: _Lifecycle;
  #tracker = new _InFlight();
  #streams: _Streams;
  #hooks: _Hook[] = [];
  #shutdown: _Shutdown;
  #run: Promise<ShutdownReport> | undefined;
  #resolveFinished: (report: ShutdownReport) => void;
  #respond: _Respond;
  #next: _Successor | undefined;

  /**
   * @param handler The user's fetch handler.
   * @param settings Validated options.
   * @param host The per-request side of the runtime (tests pass one with capabilities off).
   */
  constructor(handler: H, settings: _Settings, host: _Host = _host()) {
    this.#settings = settings;
    const life = this.#life = settings.lifecycle;
    life.bound = true;
    const tracker = this.#tracker;
    const streams = this.#streams = new _Streams(tracker, settings.sseFinalFrame);
    const shutdown = this.#shutdown = new _Shutdown({
      settings,
      tracker,
      streams,
      life,
      hooks: this.#hooks,
    });
    const { promise, resolve } = Promise.withResolvers<ShutdownReport>();
    this.finished = promise;
    this.#resolveFinished = resolve;
    const core: _Core = {
      tracker,
      findSse: settings.sseFinalFrame !== undefined,
      draining: () => life.state !== "serving",
      attached: () => shutdown.attached,
      hold: (body: _HeldBody, sse: boolean) => streams.hold(body, sse),
      bodySettled: (body: _HeldBody) => streams.release(body),
      requestSettled: (body: _HeldBody) => {
        streams.release(body);
        tracker.finish();
      },
      addSocket: (socket) => streams.addSocket(socket),
      info: (message) => settings.logger.info(message),
    };
    this.#respond = host.respond(core);
    this.fetch = host.wrapFetch(handler, (request, arg) => this.#handle(handler, request, arg));
    host.trackUpgrades();
    if (host.warning !== undefined) settings.logger.warn(host.warning);
    if (host.fallback !== undefined) settings.logger.info(host.fallback);
  }

  get signal(): AbortSignal {
    return this.#life.signal;
  }

  get state(): ShutdownState {
    return this.#life.state;
  }

  get lifecycle(): Lifecycle {
    return this.#life;
  }

  requestSignal(request: Request): AbortSignal {
    return this.#life.requestSignal(request);
  }

  get inFlight(): number {
    return this.#shutdown.inFlight;
  }

  get webSockets(): number {
    return this.#tracker.sockets;
  }

  websocket<T extends object>(handlers: T): T {
    const tracker = this.#tracker;
    if (_isNodeWebSockets(handlers)) {
      _trackNodeWebSockets(
        handlers,
        (ws) => this.#streams.addSocket(ws),
        (ws) => tracker.deleteSocket(ws),
      );
      return handlers;
    }
    _websocketHandlers(handlers);
    return _bunWebSocketHandlers(
      handlers,
      (ws: _BunWebSocketLike) => this.#streams.addSocket(ws),
      (ws: _BunWebSocketLike) => tracker.deleteSocket(ws),
    );
  }

  attach(server: object): void {
    this._attachAdapted(_adaptServer("attach()", server));
    // `bun --hot`: the reloaded module attaches the same server; its instance replaces this one.
    const retire = (next: _Successor): void => this._replacedBy(next);
    _replaceInstance(server, this, retire);
    this.finished.then(() => _releaseInstance(server, retire));
  }

  /**
   * A reloaded module's instance took over: a shutdown asked of this one (say, by the signal
   * listener of an earlier version) is that instance's, and this one's hooks never run.
   */
  _replacedBy(next: _Successor): void {
    this.#next = next;
  }

  /** Attaches an already adapted server (serve() uses this). */
  _attachAdapted(server: _RuntimeServer): void {
    this.#shutdown.attach(server);
  }

  onShutdown(hook: ShutdownHook, options?: HookOptions): () => void {
    const entry = _hook(hook, options, this.#settings.hookTimeout, this.#hooks.length);
    if (this.#shutdown.reached("hooks")) {
      throw new Error("onShutdown(): the shutdown already ran its hooks; register hooks earlier");
    }
    this.#hooks.push(entry);
    return () => {
      const index = this.#hooks.indexOf(entry);
      if (index >= 0) this.#hooks.splice(index, 1);
    };
  }

  shutdown(options?: ShutdownOptions): Promise<ShutdownReport> {
    if (this.#next) return this.#next.shutdown(options as never) as Promise<ShutdownReport>;
    if (this.#run) return this.#run;
    const { reason, signal } = _shutdownOptions(options);
    this.#run = this.#shutdown.run(reason, signal);
    this.#run.then(this.#resolveFinished);
    return this.#run;
  }

  /** Skips to the deadline now (a second signal when exiting is off). */
  _forceNow(): void {
    this.#shutdown.force();
  }

  /**
   * The hot path: a counter, and nothing read from the request (on Deno every Request getter is
   * a call into the runtime). The runtime's response path finishes the request.
   */
  #handle(
    handler: H,
    request: Request | undefined,
    arg: never,
  ): Response | Promise<Response> | undefined {
    const tracker = this.#tracker;
    tracker.start();
    let result: Response | Promise<Response | undefined> | undefined;
    try {
      result = handler(request as Request, arg);
    } catch (error) {
      tracker.finish();
      throw error;
    }
    if (result instanceof Response) return this.#respond(result, arg, request);
    if (!(result instanceof Promise)) {
      // Bun after server.upgrade(): nothing to deliver.
      if (result == null) {
        tracker.finish();
        return result as undefined;
      }
      // A response of another class (@hono/node-server replaces the global Response on Node).
      return this.#respond(result as Response, arg, request);
    }
    return new Promise<Response>((resolve, reject) => {
      const answer = (response: Response): void => {
        resolve(this.#respond(response, arg, request) as Response);
      };
      tracker.addHandler(answer, request);
      result.then(
        (response: Response | undefined) => {
          if (tracker.settleHandler(answer)) answer(response as Response);
        },
        (error: unknown) => {
          if (!tracker.settleHandler(answer)) return;
          tracker.finish();
          reject(error);
        },
      );
    });
  }
}

/**
 * Wraps a fetch handler so that every request is tracked until its response is delivered, and
 * gives you the shutdown signal and an idempotent `shutdown()`. Runtime-agnostic: use it when you
 * call `Deno.serve` / `Bun.serve` yourself, and hand it the server with `attach()`.
 *
 * @param handler A fetch function, or an object with a `fetch` method such as a Hono app.
 * @param options Deadline, lame-duck delay, hook timeout, logger.
 * @returns The wrapped `fetch` and the shutdown controls.
 * @throws {TypeError} when the handler is neither a function nor an object with `fetch`, or an
 * option has the wrong type.
 * @throws {RangeError} when a duration is negative or not finite, or `drainDelay >= timeout`.
 *
 * @example With Deno.serve
 * ```ts
 * import { graceful } from "@graceful/serve";
 *
 * const g = graceful((_req: Request) => new Response("ok"), { timeout: 5_000 });
 * const server = Deno.serve({ port: 0, onListen() {} }, g.fetch);
 * g.attach(server);
 * Deno.addSignalListener("SIGTERM", () => g.shutdown({ signal: "SIGTERM" }));
 * const report = await g.shutdown();
 * console.log(report.exitCode); // 0
 * ```
 */
export function graceful<H extends FetchHandler>(
  handler: H | { fetch: H },
  options?: GracefulOptions,
): Graceful<H> {
  return _gracefulOn(undefined, handler, options);
}

/** graceful() with a given per-request host (tests run one runtime's paths on another). */
export function _gracefulOn<H extends FetchHandler>(
  host: _Host | undefined,
  handler: H | { fetch: H },
  options?: GracefulOptions,
): Graceful<H> {
  const fetch = _handlerOf<H>("graceful()", handler);
  const opts = _optionsObject("graceful()", options);
  _knownKeys("graceful()", opts, _GRACEFUL_KEYS);
  return new _GracefulServer(fetch, _settings("graceful()", opts), host);
}
