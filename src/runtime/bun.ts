// Bun adapter. Bun is reached through a small structural type; tests/types/bun_types_check.ts
// checks it against bun-types with tsc.

import type { SignalName } from "../signals.ts";
import type { _Fetch, _Listening, _ListenOptions, Runtime, RuntimeServer } from "./types.ts";

/** The part of Bun's `Server` the library uses. */
export interface BunServerLike {
  stop(closeActiveConnections?: boolean): Promise<void> | void;
  readonly pendingRequests: number;
  readonly pendingWebSockets: number;
}

/** The part of Bun's `ServerWebSocket` the library uses. */
export interface BunWebSocketLike {
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** The part of Bun's `websocket` handlers the library wraps. */
interface _BunHandlers {
  open?: (this: unknown, ws: BunWebSocketLike) => unknown;
  close?: (this: unknown, ws: BunWebSocketLike, code: number, reason: string) => unknown;
}

/**
 * Wraps Bun's `websocket` handlers: `opened` runs before the user's `open`, and `closed` once the
 * user's `close` has returned (or its promise settled). Everything else is passed as it is.
 */
export function _bunWebSocketHandlers<T extends object>(
  handlers: T,
  opened: (ws: BunWebSocketLike) => void,
  closed: (ws: BunWebSocketLike) => void,
): T {
  const { open, close } = handlers as _BunHandlers;
  const wrapped: _BunHandlers = {
    open(ws) {
      opened(ws);
      return open?.call(this, ws);
    },
    close(ws, code, reason) {
      let result: unknown;
      try {
        result = close?.call(this, ws, code, reason);
      } catch (error) {
        closed(ws);
        throw error;
      }
      if (result instanceof Promise) {
        return result.finally(() => closed(ws));
      }
      closed(ws);
      return result;
    },
  };
  return { ...handlers, ...wrapped };
}

/** The part of the `Bun` global the library uses. */
export interface BunLike {
  serve(options: {
    port: number;
    hostname: string;
    tls?: { cert: string; key: string };
    reusePort?: boolean;
    websocket?: object;
    idleTimeout?: number;
    fetch: (request: Request, server: BunServerLike) => Response | Promise<Response>;
  }): BunServerLike & { readonly port?: number; readonly hostname?: string };
}

/** The part of Node's `process` that Bun provides and the library uses. */
interface _ProcessLike {
  on(event: SignalName, listener: () => void): unknown;
  off(event: SignalName, listener: () => void): unknown;
  exit(code?: number): never;
}

/** Whether `value` looks like a Bun `Server`. */
export function _isBunServer(value: unknown): value is BunServerLike {
  return typeof value === "object" && value !== null &&
    typeof (value as BunServerLike).stop === "function" &&
    typeof (value as BunServerLike).pendingRequests === "number";
}

/** Wraps a Bun `Server` for the shutdown sequence. */
export function _bunServer(server: BunServerLike): RuntimeServer {
  return {
    runtime: "bun",
    waitsForUploads: false,
    // Bun 1.4: stop() waits for open WebSockets instead of dropping them.
    closesWebSockets: false,
    // Bun 1.4: stop() returns a promise that settles once every request and websocket is done.
    close: () => Promise.resolve(server.stop(false)),
    force: () => {
      // Bun issue 40043: stop(true) may never settle; the caller does not wait on it.
      Promise.resolve(server.stop(true)).catch(() => {});
    },
    busy: () => server.pendingRequests > 0 || server.pendingWebSockets > 0,
    pending: () => server.pendingRequests,
  };
}

/** The Bun runtime adapter. */
export function _bunRuntime(): Runtime {
  const bun = (globalThis as unknown as { Bun: BunLike }).Bun;
  const process = (globalThis as unknown as { process: _ProcessLike }).process;
  return {
    name: "bun",
    listen(options: _ListenOptions, fetch: _Fetch): _Listening {
      const server = bun.serve({
        port: options.port,
        hostname: options.hostname,
        ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key } } : {}),
        ...(options.reusePort ? { reusePort: true } : {}),
        ...(options.websocket ? { websocket: options.websocket } : {}),
        ...(options.idleTimeout !== undefined ? { idleTimeout: options.idleTimeout } : {}),
        fetch: fetch as (request: Request) => Response,
      });
      return {
        server: _bunServer(server),
        hostname: server.hostname ?? options.hostname,
        port: server.port ?? options.port,
      };
    },
    onSignal(name: SignalName, listener: () => void): () => void {
      process.on(name, listener);
      return () => process.off(name, listener);
    },
    process: globalThis,
    exit(code: number): void {
      process.exit(code);
    },
  };
}
