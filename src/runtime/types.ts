// The small interface every runtime adapter implements.

import type { SignalName } from "../signals.ts";

/** Which runtime an adapter drives. */
export type RuntimeName = "deno" | "bun";

/** A listening server as the shutdown sequence sees it. */
export interface RuntimeServer {
  /** The runtime that owns the server. */
  readonly runtime: RuntimeName;
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
   * Whether the runtime itself still counts requests or WebSockets (Bun); `false` where it does
   * not count (Deno).
   */
  busy(): boolean;
  /** Requests the runtime itself still counts (running or writing their body), if it counts. */
  pending(): number | undefined;
}

/** Where and how to listen. */
export interface _ListenOptions {
  port: number;
  hostname: string;
  tls: { cert: string; key: string } | undefined;
  reusePort: boolean;
  /** Bun's `websocket` handlers, already wrapped for tracking. */
  websocket: object | undefined;
  /** Bun's `idleTimeout` in seconds; `undefined` keeps Bun's default. */
  idleTimeout: number | undefined;
}

/** A server started by an adapter. */
export interface _Listening {
  server: RuntimeServer;
  hostname: string;
  port: number;
}

/** The fetch function handed to the runtime. */
export type _Fetch = (request: Request, arg: unknown) => unknown;

/** A runtime: start a server, listen to signals, exit. */
export interface Runtime {
  readonly name: RuntimeName;
  listen(options: _ListenOptions, fetch: _Fetch): _Listening;
  onSignal(name: SignalName, listener: () => void): () => void;
  exit(code: number): void;
  /**
   * The process this runtime exits: servers started by serve() on the same one exit it together,
   * once the last of them has finished. Defaults to the adapter itself.
   */
  readonly process?: object;
}
