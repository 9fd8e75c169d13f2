// The Bun adapter: its server, its process, and the per-request path. Bun is reached through
// small structural types; tests/types/bun_types_check.ts checks them against bun-types with tsc.

import type { SignalName } from "../../signals.ts";
import type {
  _Fetch,
  _Host,
  _Listening,
  _ListenOptions,
  _Runtime,
  _RuntimeServer,
} from "../types.ts";
import { _belowRange } from "../release.ts";
import { _bunRespond } from "./respond.ts";

/** The part of Bun's `Server` the library uses. */
export interface _BunServerLike {
  stop(closeActiveConnections?: boolean): Promise<void> | void;
  readonly pendingRequests: number;
  readonly pendingWebSockets: number;
}

/** The part of the `Bun` global the library uses. */
export interface _BunLike {
  serve(options: {
    port: number;
    hostname: string;
    tls?: { cert: string; key: string };
    reusePort?: boolean;
    websocket?: object;
    idleTimeout?: number;
    fetch: (request: Request, server: _BunServerLike) => Response | Promise<Response>;
  }): _BunServerLike & { readonly port?: number; readonly hostname?: string };
  readonly version?: string;
}

/** The part of Node's `process` that Bun provides and the library uses. */
export interface _ProcessLike {
  on(event: SignalName, listener: () => void): unknown;
  off(event: SignalName, listener: () => void): unknown;
  exit(code?: number): never;
}

/** Whether `value` looks like a Bun `Server`. */
export function _isBunServer(value: unknown): value is _BunServerLike {
  return typeof value === "object" && value !== null &&
    typeof (value as _BunServerLike).stop === "function" &&
    typeof (value as _BunServerLike).pendingRequests === "number";
}

/** Wraps a Bun `Server` for the shutdown sequence. */
export function _bunServer(server: _BunServerLike, release?: string): _RuntimeServer {
  const force = (): void => {
    // Bun issue 40043: stop(true) may never settle; the caller does not wait on it.
    Promise.resolve(server.stop(true)).catch(() => {});
  };
  const released = Promise.withResolvers<void>();
  return {
    runtime: "bun",
    waitsForUploads: false,
    // Bun 1.4: stop() waits for open WebSockets instead of dropping them.
    closesWebSockets: false,
    // Bun 1.4: stop() returns a promise that settles once every request and websocket is done.
    close: () => Promise.race([Promise.resolve(server.stop(false)), released.promise]),
    force,
    settleIdle: () => {
      if (server.pendingRequests > 0) return undefined;
      if (server.pendingWebSockets === 0) {
        // Bun 1.4.5: stop() also waits for connections that never sent a whole request (a
        // client stalled in its headers), which no counter shows; drop them, as Deno's
        // shutdown() does at once.
        force();
        return undefined;
      }
      // Bun ≤ 1.3.14: after a server-side close, pendingWebSockets stays up and stop() never
      // settles (oven-sh/bun#36223; tests/compat/repros/bun_websocket_stop.ts). The library saw
      // every socket close, so the count is stale.
      force();
      released.resolve();
      return `Bun ${release ?? ""}: stop() is still waiting for ${server.pendingWebSockets} ` +
        `WebSocket(s) that have closed (a stale count, fixed in Bun 1.4); finishing without it`;
    },
    pending: () => server.pendingRequests,
  };
}

/** The process side of Bun, for serve(). */
export function _bunRuntime(bun: _BunLike, process: _ProcessLike): _Runtime {
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
        server: _bunServer(server, bun.version),
        hostname: server.hostname ?? options.hostname,
        port: server.port ?? options.port,
        key: server,
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

/** The per-request side of Bun; also used where no runtime is recognised (public APIs only). */
export function _bunHost(name: "bun" | "other" = "bun", version?: string): _Host {
  return {
    name,
    wrapFetch: (handler, handle) =>
      ((request: Request, arg: never) => handle(request, arg)) as unknown as typeof handler,
    respond: _bunRespond,
    trackUpgrades: () => {},
    fallback: undefined,
    warning: name === "bun" ? _belowRange("bun", version) : undefined,
  };
}
