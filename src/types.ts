// The public types of the graceful server: its options, its controls and its report.

import type { HookOptions, HookReport, ShutdownHook } from "./hooks.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Logger } from "./logger.ts";
import type { Clock } from "./clock.ts";
import type { SignalName } from "./signals.ts";

/**
 * `serving` until shutdown begins, `draining` until the last request ended, then `closed`.
 *
 * @example Refusing new work once the shutdown began
 * ```ts
 * import { lifecycle, type ShutdownState } from "@graceful/serve";
 *
 * const life = lifecycle();
 * function accepting(state: ShutdownState): boolean {
 *   return state === "serving";
 * }
 * const ok: boolean = accepting(life.state);
 * ```
 */
export type ShutdownState = "serving" | "draining" | "closed";

/**
 * A fetch handler as Deno.serve and Bun.serve call it. The second argument (Deno's `info`, Bun's
 * `server`) is passed through untouched.
 *
 * @example A plain handler, wrapped
 * ```ts
 * import { type FetchHandler, graceful } from "@graceful/serve";
 *
 * const handler: FetchHandler = (request) => new Response(`hello ${new URL(request.url).pathname}`);
 * const g = graceful(handler);
 * ```
 */
export type FetchHandler = (
  request: Request,
  arg: never,
) => Response | Promise<Response | undefined> | undefined;

/**
 * Options of {@linkcode graceful} (and of {@linkcode serve}, which adds where to listen).
 *
 * @example A deadline, a lame duck for a load balancer, no logs
 * ```ts
 * import { graceful, type GracefulOptions } from "@graceful/serve";
 *
 * const options: GracefulOptions = { timeout: 20_000, drainDelay: 5_000, logger: false };
 * const g = graceful(() => new Response("ok"), options);
 * ```
 */
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
   * @default adaptive: up to 300 ms; an idle server closes after 20 ms without a request, a busy
   * one once 100 ms pass without one (its keep-alive clients, told to go, reconnect first)
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

/**
 * Options of {@linkcode Graceful.shutdown}.
 *
 * @example Starting the shutdown from your own signal handler
 * ```ts
 * import { graceful, type ShutdownOptions } from "@graceful/serve";
 *
 * const g = graceful(() => new Response("ok"));
 * const options: ShutdownOptions = { reason: "SIGHUP received", signal: "SIGHUP" };
 * Deno.addSignalListener("SIGHUP", () => g.shutdown(options));
 * ```
 */
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

/**
 * What was cut at the deadline.
 *
 * @example Logging what the deadline cut
 * ```ts
 * import { type CutDetail, graceful } from "@graceful/serve";
 *
 * const g = graceful(() => new Response("ok"));
 * const report = await g.shutdown();
 * const cut: CutDetail = report.cutDetail;
 * if (report.cut > 0) console.error(`cut: ${cut.handlers} handlers, ${cut.bodies} bodies`);
 * ```
 */
export interface CutDetail {
  /** Handlers that had not answered: they were answered with 503 and abandoned. */
  handlers: number;
  /** Responses whose body was still being written: they were errored. */
  bodies: number;
  /** WebSockets still open (or still in their closing handshake): they were dropped. */
  webSockets: number;
}

/**
 * What a shutdown did; `shutdown()` and `finished` resolve with it.
 *
 * @example Reading the whole report with serve()
 * ```ts
 * import process from "node:process";
 * import { serve, type ShutdownReport } from "@graceful/serve";
 *
 * // By default serve() exits the process as soon as the report is ready (its last log line sums
 * // it up), so code after `await server.finished` never runs. With `exit: false` it does:
 * const server = serve(() => new Response("ok"), { port: 0, exit: false });
 * const report: ShutdownReport = await server.finished;
 * console.error(`completed ${report.completed}, cut ${report.cut} in ${report.durationMs} ms`);
 * process.exit(report.exitCode);
 * ```
 */
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
  /**
   * 0 when everything drained and every hook succeeded; 1 when work was cut, a hook failed, or
   * closing a server failed.
   */
  exitCode: 0 | 1;
}

/**
 * The handle returned by {@linkcode graceful}: the wrapped `fetch` and the shutdown controls.
 *
 * @example Handing the server to the sequence and watching it
 * ```ts
 * import { type Graceful, graceful } from "@graceful/serve";
 *
 * function watch(g: Graceful): void {
 *   g.onShutdown(() => console.error(`closing; ${g.inFlight} requests in flight`));
 * }
 * const g = graceful((_request: Request) => new Response("ok"));
 * const server = Deno.serve({ port: 0, onListen() {} }, g.fetch);
 * g.attach(server);
 * watch(g);
 * await g.shutdown({ reason: "done" });
 * ```
 */
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
   * WebSockets. On Deno's public-API path (its internals not found, or
   * `GRACEFUL_SERVE_INTERNALS=off`) a body streamed before the shutdown began is left to the
   * attached server's own shutdown and not counted.
   */
  readonly inFlight: number;
  /** WebSockets open now (included in {@linkcode inFlight}). */
  readonly webSockets: number;
  /** Resolves with the report once the shutdown has finished. */
  readonly finished: Promise<ShutdownReport>;
  /**
   * Hands the runtime server to the shutdown sequence, which will close its listener and wait for
   * it (`shutdown()` on Deno, `stop()` on Bun, `close()` on Node's `http.Server`,
   * `https.Server` or `Http2SecureServer`). Several servers may be attached.
   * @throws {TypeError} when `server` is not a Deno, Bun or Node server.
   */
  attach(server: object): void;
  /**
   * Wraps Bun's `websocket` handlers (yours, or `websocket` from `hono/bun`) so that every socket
   * is tracked: give the result to `Bun.serve({ websocket })`. `serve()` does this for you with its
   * `websocket` option. On Deno, sockets made by `Deno.upgradeWebSocket` (and Hono's
   * `upgradeWebSocket`) are tracked without this. On Node, give it what @hono/node-ws's
   * `createNodeWebSocket()` returned (its sockets are tracked from then on), and call its
   * `injectWebSocket(server)` as usual.
   * @returns The same handlers with `open` and `close` wrapped (on Node, the same object).
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
