// The wrapper: tracks every request handed to the wrapped fetch, owns the shutdown signal, and
// runs the shutdown sequence (lame duck, listener close, event-driven drain, deadline, hooks).
// It never exits the process and never installs a listener; serve() adds that policy.

import { type _EndableBody, InPlaceBody, TrackedBody } from "./body.ts";
import { _sleep, type Clock, systemClock, type TimerId } from "./clock.ts";
import { ShutdownError } from "./errors.ts";
import {
  type _Hook,
  _runHooks,
  type HookOptions,
  type HookReport,
  type ShutdownHook,
} from "./hooks.ts";
import { type _Socket, InFlight } from "./in_flight.ts";
import { _logger, type Logger } from "./logger.ts";
import { _duration, _knownKeys, _optionsObject, _show } from "./options.ts";
import { _bunWebSocketHandlers, type BunWebSocketLike } from "./runtime/bun.ts";
import { _takeDenoSocket } from "./runtime/deno.ts";
import { _adaptServer, _streamSlots, _trackUpgrades, _wholeBodyTest } from "./runtime/detect.ts";
import type { RuntimeServer } from "./runtime/types.ts";
import { _isSignalName, type SignalName } from "./signals.ts";
import { _Lifecycle, type Lifecycle } from "./lifecycle.ts";

/** `serving` until shutdown begins, `draining` until the last request ended, then `closed`. */
export type ShutdownState = "serving" | "draining" | "closed";

/**
 * A fetch handler as Deno.serve and Bun.serve call it. The second argument (Deno's `info`, Bun's
 * `server`) is passed through untouched.
 */
export type FetchHandler = (
  request: Request,
  arg: never,
) => Response | Promise<Response | undefined> | undefined;

/** Options of {@linkcode graceful}. */
export interface GracefulOptions {
  /**
   * Hard deadline in milliseconds, measured from the start of the shutdown: whatever is still in
   * flight then is cut. Includes `drainDelay`.
   * @default 10000
   */
  timeout?: number;
  /**
   * Lame-duck delay in milliseconds: after the shutdown began, keep the listener open and serve
   * requests (each answered with `Connection: close`) for this long before closing it. Set it
   * (e.g. 5000 on Kubernetes) to cover the time load balancers take to stop sending; `0` closes
   * the listener at once.
   * @default adaptive: up to 300 ms, ending as soon as no request arrived for 20 ms (an idle
   * server closes after 20 ms; a busy one tells its keep-alive clients to go first)
   */
  drainDelay?: number;
  /**
   * Default timeout of each cleanup hook, in milliseconds.
   * @default 5000
   */
  hookTimeout?: number;
  /**
   * Where phase and progress lines go (e.g. {@linkcode stderrLogger} or `console`); `false` is
   * silent.
   * @default silent for `graceful()`; for `serve()`, {@linkcode stderrLogger}
   */
  logger?: Logger | false;
  /**
   * Milliseconds after the shutdown began during which a Server-Sent Events response
   * (`text/event-stream`) may end by itself; then the library writes `sseFinalFrame` and ends it
   * cleanly, and cancels the handler's stream. WebSockets still open then are closed with 1001.
   * @default 250
   */
  streamGrace?: number;
  /**
   * The last frame written to an SSE response the library ends. The default asks `EventSource`
   * to reconnect after one second (to another instance); e.g. `"event: shutdown\ndata: bye\n\n"`.
   * Must end with a blank line.
   *
   * `false`: the library does not look for SSE responses at all. They are then like any other
   * streamed body: their handlers still see the shutdown signal, and what is still open at the
   * deadline is cut. On Bun this saves reading every response's headers (about 4% of a hello
   * world's throughput on Bun 1.4.5); choose it when no route streams SSE, or when the SSE
   * handlers end their streams on the signal themselves.
   * @default "retry: 1000\n\n"
   */
  sseFinalFrame?: string | false;
  /**
   * The shutdown signal created earlier with {@linkcode lifecycle}, for route modules that must
   * not import the server.
   * @default a new one (read it from `.signal`)
   */
  lifecycle?: Lifecycle;
  /**
   * Time source and timers, for tests that check the deadline without sleeping.
   * @default the system clock
   */
  clock?: Clock;
}

/** Options of {@linkcode Graceful.shutdown}. */
export interface ShutdownOptions {
  /**
   * Why the server shuts down, for the abort reason, the logs and the report.
   * @default `"<signal> received"` or `"shutdown() called"`
   */
  reason?: string;
  /**
   * The OS signal that triggered the shutdown, when you handle signals yourself.
   * @default null
   */
  signal?: SignalName;
}

/** What was cut at the deadline. */
export interface CutDetail {
  /** Handlers that had not answered: they were answered with 503 and abandoned. */
  handlers: number;
  /** Responses whose body was still being written: they were errored. */
  bodies: number;
  /** WebSockets still open (or still in their closing handshake): they were dropped. */
  webSockets: number;
}

/** What a shutdown did; `shutdown()` and `finished` resolve with it. */
export interface ShutdownReport {
  /** Why the shutdown happened. */
  reason: string;
  /** The OS signal that triggered it, or `null`. */
  signal: SignalName | null;
  /** From the start of the shutdown to the end of the last hook, in milliseconds. */
  durationMs: number;
  /** Requests in flight when the shutdown began, WebSockets included. */
  inFlightAtStart: number;
  /** WebSockets open when the shutdown began. */
  webSocketsAtStart: number;
  /**
   * Requests and WebSockets that finished during the drain (in flight at the start or accepted
   * since).
   */
  completed: number;
  /** Requests cut at the deadline. */
  cut: number;
  /** The cut requests by kind. */
  cutDetail: CutDetail;
  /** Whether the deadline was reached before the drain ended. */
  timedOut: boolean;
  /** Each cleanup hook, in the order they ran. */
  hooks: HookReport[];
  /** 0 when everything drained and every hook succeeded, 1 otherwise. */
  exitCode: 0 | 1;
}

/** The handle returned by {@linkcode graceful}. */
export interface Graceful<H extends FetchHandler = FetchHandler> {
  /** The wrapped handler: give it to `Deno.serve` / `Bun.serve` in place of yours. */
  readonly fetch: H;
  /** Aborts with a {@linkcode ShutdownError} the moment the shutdown begins. */
  readonly signal: AbortSignal;
  /** The current phase. */
  readonly state: ShutdownState;
  /** The lifecycle (signal and state) of this server, to hand to route modules. */
  readonly lifecycle: Lifecycle;
  /**
   * A signal that aborts when either the shutdown begins or this request's client goes away;
   * see {@linkcode Lifecycle.requestSignal}.
   */
  requestSignal(request: Request): AbortSignal;
  /**
   * Requests in flight now: running handlers, responses still being delivered, and open
   * WebSockets.
   */
  readonly inFlight: number;
  /** WebSockets open now (included in {@linkcode inFlight}). */
  readonly webSockets: number;
  /** Resolves with the report once the shutdown has finished. */
  readonly finished: Promise<ShutdownReport>;
  /**
   * Hands the runtime server to the shutdown sequence, which will close its listener and wait for
   * it (`shutdown()` on Deno, `stop()` on Bun). Several servers may be attached.
   * @throws {TypeError} when `server` is not a Deno or Bun server.
   */
  attach(server: object): void;
  /**
   * Wraps Bun's `websocket` handlers (yours, or `websocket` from `hono/bun`) so that every socket
   * is tracked: give the result to `Bun.serve({ websocket })`. `serve()` does this for you with its
   * `websocket` option. On Deno, sockets made by `Deno.upgradeWebSocket` (and Hono's
   * `upgradeWebSocket`) are tracked without this.
   * @returns The same handlers with `open` and `close` wrapped.
   * @throws {TypeError} when `handlers` is not an object with a `message` function, or `open` /
   * `close` is not a function.
   */
  websocket<T extends object>(handlers: T): T;
  /**
   * Registers a cleanup hook, run after the drain (last registered first).
   * @returns A function that unregisters the hook.
   * @throws {TypeError} when `hook` is not a function or an option is invalid.
   */
  onShutdown(hook: ShutdownHook, options?: HookOptions): () => void;
  /**
   * Starts the shutdown; idempotent: later calls return the same promise. Safe to call from
   * inside a handler: that request's response is still delivered.
   */
  shutdown(options?: ShutdownOptions): Promise<ShutdownReport>;
}

/**
 * Milliseconds the forced step waits, twice at most: for the 503 answers to be written, then for
 * the runtime to settle after being forced.
 */
const _FORCE_GRACE_MS = 100;
/** The close code and reason sent to WebSockets still open when the stream grace is over. */
const _GOING_AWAY_CODE = 1001;
const _GOING_AWAY_REASON = "server shutting down";
/** The default lame duck: at most this long... */
const _AUTO_DRAIN_MAX_MS = 300;
/** ...and over as soon as no request started during this long. */
const _AUTO_DRAIN_QUIET_MS = 20;
/** Milliseconds between progress lines while draining. */
const _PROGRESS_MS = 1000;
/** How often an SSE stream the runtime was still writing to is asked again to end (Deno). */
const _END_RETRY_MS = 10;
const _GRACEFUL_KEYS = [
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

/** Whether a request has a body that may still be arriving (checked at shutdown, not per request). */
function _hasBody(request: Request | undefined): boolean {
  if (request === undefined) return false;
  const method = request.method;
  return method !== "GET" && method !== "HEAD" && request.body !== null;
}

/** Adds `Connection: close`, copying the response when its headers are immutable. */
function _withConnectionClose(response: Response): Response {
  try {
    response.headers.set("connection", "close");
    return response;
  } catch {
    const headers = new Headers(response.headers);
    headers.set("connection", "close");
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }
}

/** Whether a response is a Server-Sent Events stream (bench/servers/hello.ts measures it alone). */
export function _isEventStream(response: Response): boolean {
  return response.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
}

/** The answer given to a handler still running at the deadline. */
function _unavailable(): Response {
  return new Response("Service Unavailable: the server is shutting down\n", {
    status: 503,
    headers: { "content-type": "text/plain; charset=utf-8", "connection": "close" },
  });
}

/** The implementation behind {@linkcode graceful}; serve() also uses its internal methods. */
export class _GracefulServer<H extends FetchHandler> implements Graceful<H> {
  readonly fetch: H;
  readonly finished: Promise<ShutdownReport>;
  #settings: _Settings;
  #life: _Lifecycle;
  #deadline = new AbortController();
  #tracker = new InFlight();
  #servers: RuntimeServer[] = [];
  #closing: Promise<void>[] = [];
  #hooks: _Hook[] = [];
  #hooksRan = false;
  #sse = new Set<_EndableBody>();
  /** SSE streams that could not be ended yet (the runtime was still writing), retried. */
  #endLater = new Set<_EndableBody>();
  #endLaterTimer: TimerId | undefined;
  #endingStreams = false;
  #run: Promise<ShutdownReport> | undefined;
  #resolveFinished: (report: ShutdownReport) => void;
  #end = (): void => this.#tracker.end();
  /** Shared by every tracked body (no closure per stream). */
  #bodyEnded = (body: _EndableBody): void => {
    this.#tracker.deleteBody(body);
    this.#sse.delete(body);
  };
  /** Shared by every body wrapped because no `info` came with its request (Deno's fast path). */
  #requestBodyEnded = (body: _EndableBody): void => {
    this.#bodyEnded(body);
    this.#tracker.end();
  };
  #deno = "Deno" in globalThis;
  /** Whether SSE responses are looked for (`sseFinalFrame` is not false). */
  #findSse: boolean;
  #wholeBody = _wholeBodyTest();
  #slots = _streamSlots();

  constructor(handler: H, settings: _Settings) {
    this.#settings = settings;
    this.#findSse = settings.sseFinalFrame !== undefined;
    this.#life = settings.lifecycle;
    this.#life.bound = true;
    const { promise, resolve } = Promise.withResolvers<ShutdownReport>();
    this.finished = promise;
    this.#resolveFinished = resolve;
    // Deno 2.9 serves a handler that declares no parameters on a faster path: for plain requests
    // it builds no Request and no info, and calls the handler with no arguments. The wrapper of
    // such a handler declares none either (defaulted parameters do not count), keeping that path.
    this.fetch =
      (handler.length === 0
        ? (request: Request | undefined = undefined, arg: never = undefined as never) =>
          this.#handle(handler, request, arg)
        : (request: Request, arg: never) => this.#handle(handler, request, arg)) as H;
    _trackUpgrades();
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
    let count = this.#tracker.requests;
    for (const server of this.#servers) {
      const pending = server.pending();
      if (pending !== undefined && pending > count) count = pending;
    }
    return count + this.#tracker.sockets;
  }

  get webSockets(): number {
    return this.#tracker.sockets;
  }

  websocket<T extends object>(handlers: T): T {
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
        throw new TypeError(
          `websocket(): "${name}" must be a function, received ${_show(h[name])}`,
        );
      }
    }
    const tracker = this.#tracker;
    return _bunWebSocketHandlers(
      handlers,
      (ws: BunWebSocketLike) => this.#addSocket(ws),
      (ws: BunWebSocketLike) => tracker.deleteSocket(ws),
    );
  }

  attach(server: object): void {
    this._attachAdapted(_adaptServer("attach()", server));
  }

  /** Attaches an already adapted server (serve() uses this). */
  _attachAdapted(server: RuntimeServer): void {
    this.#servers.push(server);
    // Attached after the listener-close step: close it now, and wait for it in the drain.
    if (this.#life.state !== "serving" && this.#closing.length > 0) {
      this.#closing.push(server.close());
    }
  }

  onShutdown(hook: ShutdownHook, options: HookOptions = {}): () => void {
    if (typeof hook !== "function") {
      throw new TypeError(`onShutdown(): the hook must be a function, received ${_show(hook)}`);
    }
    const opts = _optionsObject("onShutdown()", options);
    _knownKeys("onShutdown()", opts, ["name", "timeout"]);
    if (opts.name !== undefined && typeof opts.name !== "string") {
      throw new TypeError(`onShutdown(): "name" must be a string, received ${_show(opts.name)}`);
    }
    if (this.#hooksRan) {
      throw new Error("onShutdown(): the shutdown already ran its hooks; register hooks earlier");
    }
    const entry: _Hook = {
      fn: hook,
      name: (opts.name as string | undefined) || hook.name || `hook ${this.#hooks.length + 1}`,
      timeout: _duration("onShutdown()", "timeout", opts.timeout, this.#settings.hookTimeout),
    };
    this.#hooks.push(entry);
    return () => {
      const index = this.#hooks.indexOf(entry);
      if (index >= 0) this.#hooks.splice(index, 1);
    };
  }

  shutdown(options: ShutdownOptions = {}): Promise<ShutdownReport> {
    if (this.#run) return this.#run;
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
    this.#run = this.#sequence(reason, signal);
    return this.#run;
  }

  /** Skips to the deadline now (a second signal when exiting is off). */
  _forceNow(): void {
    this.#deadline.abort();
  }

  #handle(
    handler: H,
    request: Request | undefined,
    arg: never,
  ): Response | Promise<Response> | undefined {
    // The hot path: a counter, and nothing read from the request (on Deno every Request getter
    // is a call into the runtime).
    const tracker = this.#tracker;
    tracker.start();
    let result: Response | Promise<Response | undefined> | undefined;
    try {
      result = handler(request as Request, arg);
    } catch (error) {
      tracker.end();
      throw error;
    }
    if (result instanceof Response) return this.#respond(result, arg, request);
    if (!(result instanceof Promise)) {
      // Bun after server.upgrade(): nothing to deliver.
      tracker.end();
      return result as undefined;
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
          tracker.end();
          reject(error);
        },
      );
    });
  }

  #respond(response: Response, arg: unknown, request: Request | undefined): Response | undefined {
    // Deno: a string or bytes body is handed over whole; while serving not even its headers are
    // read, and during the drain it only gets Connection: close (it keeps its Content-Length).
    if (this.#wholeBody?.(response)) {
      response = this.#closingIfDraining(response);
      this.#tracker.end();
      return response;
    }
    // Deno's info.completed settles once the body was written or the client went away.
    const completed = (arg as { completed?: unknown } | undefined)?.completed;
    if (completed instanceof Promise) return this.#respondDeno(response, completed, request);
    if (this.#deno) return this.#respondBlind(response);
    // Bun counts bodies itself (pendingRequests) and stop(true) cuts them: only SSE streams are
    // wrapped, to end them with the final frame. Bun 1.4: reading .body of a string response
    // drops its implied content-type, so no other body is touched.
    if (response instanceof Response) {
      response = this.#closingIfDraining(response);
      if (this.#findSse && _isEventStream(response)) response = this.#track(response, true);
    }
    this.#tracker.end();
    return response;
  }

  /** During the drain, the response with `Connection: close`; while serving, as it is. */
  #closingIfDraining(response: Response): Response {
    return this.#life.state === "serving" ? response : _withConnectionClose(response);
  }

  /** Deno, with the request's `info.completed`: the request ends when it settles. */
  #respondDeno(
    response: Response,
    completed: Promise<unknown>,
    request: Request | undefined,
  ): Response {
    if (!(response instanceof Response)) {
      completed.then(this.#end, this.#end);
      return response;
    }
    if (response.status === 101) {
      const socket = request === undefined ? undefined : _takeDenoSocket(request);
      if (socket !== undefined) this.#trackDenoSocket(socket);
      completed.then(this.#end, this.#end);
      return response;
    }
    const draining = this.#life.state !== "serving";
    response = this.#closingIfDraining(response);
    const sse = this.#findSse && _isEventStream(response);
    // Deno has no force: every streamed body is held so that the deadline can cut it, in place
    // (no copy, a few hundred bytes) where Deno's stream allows it.
    const inPlace = this.#trackInPlace(response, sse);
    if (inPlace !== undefined) {
      const over = (): void => {
        inPlace.over();
        this.#tracker.end();
      };
      completed.then(over, over);
      return response;
    }
    // Otherwise (a resource-backed or byte stream) wrapping copies every chunk: only SSE streams
    // and bodies streamed during the drain are wrapped; fixed-length bodies keep their framing.
    if (sse || (draining && !response.headers.has("content-length"))) {
      response = this.#track(response, sse);
    }
    completed.then(this.#end, this.#end);
    return response;
  }

  /**
   * Deno with no `info` (a handler declaring no parameters, on Deno's fast path, or a direct
   * call): nothing tells when a streamed body was written, so every streamed body is wrapped and
   * its request ends with it. String and bytes bodies were handed over whole before this.
   */
  #respondBlind(response: Response): Response {
    if (!(response instanceof Response)) {
      this.#tracker.end();
      return response;
    }
    response = this.#closingIfDraining(response);
    const body = response.body;
    if (body === null) {
      this.#tracker.end();
      return response;
    }
    const tracked = new TrackedBody(body, this.#requestBodyEnded);
    this.#register(tracked, this.#findSse && _isEventStream(response));
    return new Response(tracked.stream, response);
  }

  /**
   * Wraps a response body so that it can be cut at the deadline and, for Server-Sent Events
   * (`sse`), ended cleanly with the final frame once the stream grace is over.
   */
  #track(response: Response, sse: boolean): Response {
    const body = response.body;
    if (body === null) return response;
    const tracked = new TrackedBody(body, this.#bodyEnded);
    this.#register(tracked, sse);
    // The response itself as the init: status, statusText and headers, with no copy made here.
    return new Response(tracked.stream, response);
  }

  /**
   * Like {@linkcode #track}, but the body stays as it is (Deno); undefined where it cannot be
   * ended in place (see `_StreamSlots`).
   */
  #trackInPlace(response: Response, sse: boolean): InPlaceBody | undefined {
    const body = response.body;
    const controller = body === null ? undefined : this.#slots?.controller(body);
    if (controller === undefined) return undefined;
    const tracked = new InPlaceBody(controller, this.#slots!, this.#bodyEnded);
    this.#register(tracked, sse);
    return tracked;
  }

  #register(body: _EndableBody, sse: boolean): void {
    this.#tracker.addBody(body);
    if (sse) {
      this.#sse.add(body);
      if (this.#endingStreams) this.#endStream(body);
    }
  }

  #trackDenoSocket(socket: WebSocket): void {
    const tracker = this.#tracker;
    const handle: _Socket = {
      close(code, reason) {
        // Deno 2.9: close() on a socket whose 101 response was not sent yet throws.
        if (socket.readyState === WebSocket.CONNECTING) {
          socket.addEventListener("open", () => socket.close(code, reason), { once: true });
        } else if (socket.readyState === WebSocket.OPEN) {
          socket.close(code, reason);
        }
      },
      // Deno 2.9 cannot drop one socket; closing the listener (shutdown()) drops them all.
      terminate() {},
    };
    socket.addEventListener("close", () => tracker.deleteSocket(handle), { once: true });
    this.#addSocket(handle);
  }

  #addSocket(socket: _Socket): void {
    this.#tracker.addSocket(socket);
    // Opened after the stream grace: tell it to go away at once.
    if (this.#endingStreams) socket.close(_GOING_AWAY_CODE, _GOING_AWAY_REASON);
  }

  #endStream(stream: _EndableBody): void {
    if (stream.end(this.#settings.sseFinalFrame, this.#life.signal.reason)) return;
    this.#endLater.add(stream);
    this.#endLaterTimer ??= this.#settings.clock.setTimeout(this.#retryEnds, _END_RETRY_MS);
  }

  /** Asks the streams that could not be ended yet again, until every one is (or the deadline). */
  #retryEnds = (): void => {
    this.#endLaterTimer = undefined;
    const { sseFinalFrame } = this.#settings;
    const reason = this.#life.signal.reason;
    for (const stream of this.#endLater) {
      if (stream.end(sseFinalFrame, reason)) this.#endLater.delete(stream);
    }
    if (this.#endLater.size > 0) {
      this.#endLaterTimer = this.#settings.clock.setTimeout(this.#retryEnds, _END_RETRY_MS);
    }
  };

  async #sequence(reason: string, signal: SignalName | null): Promise<ShutdownReport> {
    const { clock, logger, timeout, drainDelay } = this.#settings;
    const tracker = this.#tracker;
    const start = clock.now();
    const startedBefore = tracker.started;
    const inFlightAtStart = this.inFlight;
    const webSocketsAtStart = tracker.sockets;
    this.#life.state = "draining";
    const deadline = this.#deadline;
    const waitsForUploads = this.#servers.some((s) => s.waitsForUploads);
    // Only asked here when there is no lame duck (it decides whether to close first).
    let uploads = waitsForUploads && drainDelay === 0
      ? tracker.handlersSettled(_hasBody)
      : undefined;
    const socketsFirst = tracker.sockets > 0 && this.#servers.some((s) => s.closesWebSockets);
    // With no lame duck, close the listener before anything else: every millisecond the event
    // loop spends on the steps below is a millisecond in which keep-alive clients still send on
    // sockets the runtime is about to close (measured in bench/keepalive_race.ts).
    const closeFirst = drainDelay === 0 && uploads === undefined && !socketsFirst;
    if (closeFirst) this.#closeListeners();
    const deadlineTimer = clock.setTimeout(() => deadline.abort(), timeout);
    let progressTimer: TimerId | undefined;
    const progress = (): void => {
      progressTimer = clock.setTimeout(() => {
        logger.info(`draining: ${this.#describe()} still in flight after ${elapsed()} ms`);
        progress();
      }, _PROGRESS_MS);
    };
    const elapsed = (): number => Math.round(clock.now() - start);

    logger.info(
      `shutdown started (${reason}): ${inFlightAtStart} in flight, deadline in ${timeout} ms`,
    );
    this.#life.controller.abort(
      new ShutdownError(`server is shutting down (${reason})`, { signal }),
    );
    progress();
    const endStreams = (): void => {
      this.#endingStreams = true;
      const open = [...this.#sse];
      if (open.length > 0) logger.info(`ending ${open.length} SSE stream(s) with a final frame`);
      for (const stream of open) this.#endStream(stream);
      if (tracker.sockets > 0) {
        logger.info(`closing ${tracker.sockets} WebSocket(s) with ${_GOING_AWAY_CODE}`);
        tracker.closeSockets(_GOING_AWAY_CODE, _GOING_AWAY_REASON);
      }
    };
    const graceTimer = clock.setTimeout(endStreams, this.#settings.streamGrace);

    if (drainDelay === "auto") {
      await this.#lameDuckUntilQuiet(Math.min(_AUTO_DRAIN_MAX_MS, timeout / 2));
    } else if (drainDelay > 0) {
      logger.info(`lame duck: serving with Connection: close for ${drainDelay} ms`);
      await _sleep(clock, drainDelay, deadline.signal);
    }
    // After a lame duck, uploads that began during it count too.
    if (waitsForUploads && !closeFirst) uploads = tracker.handlersSettled(_hasBody);
    // The listener is still open while they arrive: uploads that begin meanwhile count too.
    while (uploads !== undefined && await _race(uploads, deadline.signal)) {
      uploads = tracker.handlersSettled(_hasBody);
    }
    if (tracker.sockets > 0 && this.#servers.some((s) => s.closesWebSockets)) {
      // The listener stays open meanwhile: new requests are still answered (Connection: close).
      logger.info(`waiting for ${tracker.sockets} WebSocket(s) to close before the listener`);
      await _race(tracker.socketsClosed(), deadline.signal);
    }
    if (!closeFirst) this.#closeListeners();
    if (this.#servers.length > 0) {
      logger.info(`closing the listener after ${elapsed()} ms; waiting for ${this.#describe()}`);
    }

    const drained = this.#drained();
    let timedOut = !(await _race(drained, deadline.signal));
    let cutDetail: CutDetail = { handlers: 0, bodies: 0, webSockets: 0 };
    if (timedOut) {
      const cut = this.inFlight;
      const { handlers, sockets } = tracker;
      cutDetail = {
        handlers,
        bodies: Math.max(0, cut - handlers - sockets),
        webSockets: sockets,
      };
      if (cut === 0 && this.#servers.length === 0) timedOut = false;
      logger.warn(
        `deadline reached after ${elapsed()} ms: cutting ${cutDetail.handlers} handler(s), ` +
          `${cutDetail.bodies} response body(ies) and ${cutDetail.webSockets} WebSocket(s)`,
      );
      const error = new ShutdownError(`shutdown deadline of ${timeout} ms reached`, { signal });
      tracker.cutAll(_unavailable, error);
      // Let the 503 answers go out before forcing the runtime (Bun's stop(true) drops them).
      if (!(await this.#within(drained, _FORCE_GRACE_MS))) {
        for (const server of this.#servers) server.force();
        await this.#within(drained, _FORCE_GRACE_MS);
      }
    }
    clock.clearTimeout(deadlineTimer);
    clock.clearTimeout(graceTimer);
    if (this.#endLaterTimer !== undefined) clock.clearTimeout(this.#endLaterTimer);
    this.#endLaterTimer = undefined;
    this.#endLater.clear();
    if (progressTimer !== undefined) clock.clearTimeout(progressTimer);
    this.#life.state = "closed";
    const cut = cutDetail.handlers + cutDetail.bodies + cutDetail.webSockets;
    if (!timedOut) logger.info(`drained in ${elapsed()} ms`);

    this.#hooksRan = true;
    const hooks = await _runHooks(this.#hooks, clock, logger);
    const hooksFailed = hooks.some((h) => h.outcome !== "ok");
    const report: ShutdownReport = {
      reason,
      signal,
      durationMs: elapsed(),
      inFlightAtStart,
      webSocketsAtStart,
      completed: Math.max(0, inFlightAtStart + tracker.started - startedBefore - cut),
      cut,
      cutDetail,
      timedOut,
      hooks,
      exitCode: timedOut || hooksFailed ? 1 : 0,
    };
    logger.info(
      `shutdown complete in ${report.durationMs} ms: ${report.completed} completed, ${cut} cut` +
        (hooks.length > 0
          ? `, ${hooks.filter((h) => h.outcome === "ok").length}/${hooks.length} hooks ok`
          : ""),
    );
    this.#resolveFinished(report);
    return report;
  }

  /**
   * The default lame duck: keeps the listener open while requests keep arriving (each answered
   * with `Connection: close`, so keep-alive clients leave before their idle sockets are closed
   * under them), for at most `max` ms, and ends once none started for `_AUTO_DRAIN_QUIET_MS`.
   */
  async #lameDuckUntilQuiet(max: number): Promise<void> {
    const { clock } = this.#settings;
    const deadline = this.#deadline.signal;
    const tracker = this.#tracker;
    const until = clock.now() + max;
    let seen = tracker.started;
    for (;;) {
      const left = until - clock.now();
      if (left <= 0 || deadline.aborted) return;
      await _sleep(clock, Math.min(_AUTO_DRAIN_QUIET_MS, left), deadline);
      if (tracker.started === seen) return;
      seen = tracker.started;
    }
  }

  /** Closes every attached server's listener; the drain waits for the returned promises. */
  #closeListeners(): void {
    for (const server of this.#servers) {
      const closing = server.close();
      // Observe rejections now; the drain waits on the same promises.
      closing.catch(() => {});
      this.#closing.push(closing);
    }
  }

  /** Whether `promise` settles within `ms` on the clock. */
  async #within(promise: Promise<unknown>, ms: number): Promise<boolean> {
    const expired = new AbortController();
    const timer = this.#settings.clock.setTimeout(() => expired.abort(), ms);
    try {
      return await _race(promise, expired.signal);
    } finally {
      this.#settings.clock.clearTimeout(timer);
    }
  }

  /** Resolves when every tracked request ended and every closed server has settled. */
  async #drained(): Promise<void> {
    await this.#tracker.idle();
    let seen = 0;
    while (seen < this.#closing.length) {
      seen = this.#closing.length;
      const closing = Promise.allSettled(this.#closing);
      // Bun 1.4.5: stop() also waits for connections that never sent a whole request (a client
      // stalled in its headers), which no counter shows. With nothing in flight after a short
      // grace, drop them, as Deno's shutdown() does at once.
      if (!(await this.#within(closing, _FORCE_GRACE_MS)) && this.#onlyIdleConnections()) {
        for (const server of this.#servers) server.force();
      }
      await closing;
    }
  }

  /** Whether nothing is in flight by any count, although a runtime has not settled. */
  #onlyIdleConnections(): boolean {
    const tracker = this.#tracker;
    return tracker.requests === 0 && tracker.sockets === 0 &&
      this.#servers.every((server) => !server.busy());
  }

  #describe(): string {
    const tracker = this.#tracker;
    const total = this.inFlight;
    const parts = [`${tracker.handlers} running`];
    if (tracker.bodies > 0) parts.push(`${tracker.bodies} tracked stream(s)`);
    if (tracker.sockets > 0) parts.push(`${tracker.sockets} WebSocket(s)`);
    return `${total} request(s) (${parts.join(", ")})`;
  }
}

/** Resolves `true` when `promise` settles first, `false` when `signal` aborts first. */
function _race(promise: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => resolve(true),
      () => resolve(true),
    ).finally(() => signal.removeEventListener("abort", onAbort));
  });
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
  const fetch = _handlerOf<H>("graceful()", handler);
  const opts = _optionsObject("graceful()", options);
  _knownKeys("graceful()", opts, _GRACEFUL_KEYS);
  return new _GracefulServer(fetch, _settings("graceful()", opts));
}

export { _GRACEFUL_KEYS };
