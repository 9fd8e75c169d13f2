// What the core asks of a runtime, and what it offers back. Adapters implement these; the core
// depends only on this file, never on an adapter.

import type { _BodySettled, _HeldBody } from "../body.ts";
import type { _InFlight, _Socket } from "../in_flight.ts";
import type { SignalName } from "../signals.ts";

/** Which runtime an adapter drives. */
export type _RuntimeName = "deno" | "bun" | "node" | "other";

/** A listening server as the shutdown sequence sees it. */
export interface _RuntimeServer {
  /** The runtime that owns the server. */
  readonly runtime: _RuntimeName;
  /**
   * Whether the listener must stay open until request bodies have arrived (Deno 2.9: reading a
   * body after `shutdown()` throws BadResource).
   */
  readonly waitsForUploads: boolean;
  /**
   * Whether closing the listener also drops open WebSockets (Deno), so that they must be closed
   * first for the handshake to happen.
   */
  readonly closesWebSockets: boolean;
  /** Closes the listener and resolves once the runtime has delivered every response. */
  close(): Promise<void>;
  /** Closes every connection now, where the runtime can (Bun: `stop(true)`). */
  force(): void;
  /**
   * Called when the library counts nothing in flight but `close()` has not settled: the runtime
   * may let go of what it still waits for that carries no request. Returns what it did, for the
   * log, when it did something worth a line.
   */
  settleIdle(): string | void;
  /** Requests the runtime itself still counts (running or writing their body), if it counts. */
  pending(): number | undefined;
}

/** Where and how to listen. */
export interface _ListenOptions {
  port: number;
  hostname: string;
  tls: { cert: string; key: string } | undefined;
  /** Node: serve HTTP/2 (and HTTP/1.1 by ALPN) over `tls`. */
  http2: boolean;
  reusePort: boolean;
  /** Bun's `websocket` handlers, already wrapped for tracking (Node: @hono/node-ws's object). */
  websocket: object | undefined;
  /** Bun's `idleTimeout` in seconds; `undefined` keeps Bun's default. */
  idleTimeout: number | undefined;
}

/** A server started by an adapter. */
export interface _Listening {
  server: _RuntimeServer;
  hostname: string;
  port: number;
  /**
   * Node: binding is asynchronous there (the host name is looked up first), so the address is
   * known once this resolves; until then `hostname` and `port` are the ones asked for. It rejects
   * with the listen error (EADDRINUSE).
   */
  bound?: Promise<{ hostname: string; port: number }>;
  /**
   * Bun: the server object itself, which Bun.serve returns again for the same address when
   * `bun --hot` reloads the module (a reloaded serve() replaces the earlier instance).
   */
  key?: object;
}

/** The fetch function handed to the runtime. */
export type _Fetch = (request: Request, arg: unknown) => unknown;

/** The process side of a runtime, for serve(): start a server, listen to signals, exit. */
export interface _Runtime {
  readonly name: _RuntimeName;
  listen(options: _ListenOptions, fetch: _Fetch): _Listening;
  onSignal(name: SignalName, listener: () => void): () => void;
  exit(code: number): void;
  /**
   * The process this runtime exits: servers started by serve() on the same one exit it together,
   * once the last of them has finished. Defaults to the adapter itself.
   */
  readonly process?: object;
}

/** What the core offers a runtime's response path. */
export interface _Core {
  readonly tracker: _InFlight;
  /** Whether SSE responses are looked for (`sseFinalFrame` is not false). */
  readonly findSse: boolean;
  /** Whether the shutdown began (responses then carry `Connection: close`). */
  draining(): boolean;
  /** Whether a server is attached: its own shutdown then waits for what it was handed. */
  attached(): boolean;
  /** Holds a body so that it can be cut at the deadline and, for `sse`, ended cleanly. */
  hold(body: _HeldBody, sse: boolean): void;
  /** The one settle callback of held bodies whose request ends elsewhere. */
  readonly bodySettled: _BodySettled;
  /** The one settle callback of held bodies whose settling also finishes their request. */
  readonly requestSettled: _BodySettled;
  /** A WebSocket opened; it counts as in flight until the tracker hears it closed. */
  addSocket(socket: _Socket): void;
  /** Logs at info level (a fast path found missing only once requests arrive). */
  info(message: string): void;
}

/**
 * How a response is tracked on a runtime, from the handler's return to the runtime's delivery:
 * it must finish the request in `core.tracker` exactly once.
 */
export type _Respond = (
  response: Response,
  arg: unknown,
  request: Request | undefined,
) => Response | undefined;

/** The per-request side of the runtime the code runs on, chosen once per graceful server. */
export interface _Host {
  readonly name: _RuntimeName;
  /** Gives the runtime the core's entry in the shape it calls fastest. */
  wrapFetch<H extends (...args: never[]) => unknown>(
    handler: H,
    handle: (request: Request | undefined, arg: never) => unknown,
  ): H;
  /** The response path for `core`. */
  respond(core: _Core): _Respond;
  /** Starts whatever WebSocket tracking this runtime needs globally (Deno); idempotent. */
  trackUpgrades(): void;
  /** Why this runtime takes the public-API path, when it has a faster one it could not use. */
  readonly fallback: string | undefined;
  /** Set on a release below the supported range: what it is and which range is supported. */
  readonly warning?: string;
}

/**
 * How a runtime serves a module's default export after the module ran (`deno serve`, `bun run`),
 * for gracefulExport(): the runtime listens, the library takes the server it starts.
 */
export interface _DefaultExportRuntime {
  /** The process side: signals and the exit at once on a second signal. */
  readonly runtime: _Runtime;
  /**
   * Watches for the server the runtime starts for `exported`: `served` gets it when it listens
   * (with its address, where the runtime gives one then), and the runtime's own stop handling,
   * if it has one, calls `stop` instead of closing that server itself. `bypassed` is called
   * when the server came another way than the runtime's usual call (Bun: with a request).
   */
  capture(
    exported: object,
    served: (server: _RuntimeServer, address?: { hostname: string; port: number }) => void,
    stop: () => Promise<void>,
    bypassed?: () => void,
  ): void;
  /** Ends the process with `code` once the shutdown finished. */
  finish(code: number): void;
}
