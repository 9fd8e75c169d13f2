// The Deno adapter: its server, its process, and the per-request path. Deno is reached through
// small structural types so that this file also type-checks under Bun's types;
// tests/types/deno_types_check.ts checks them against Deno's own.

import type { SignalName } from "../../signals.ts";
import type {
  _Fetch,
  _Host,
  _Listening,
  _ListenOptions,
  _Runtime,
  _RuntimeServer,
} from "../types.ts";
import { _belowRange, _olderThan } from "../release.ts";
import { type _DenoInternals, _denoInternals } from "./internals.ts";
import { _denoRespond } from "./respond.ts";
import { _trackDenoUpgrades } from "./websocket.ts";

/** The part of `Deno.HttpServer` the library uses. */
export interface _DenoServerLike {
  shutdown(): Promise<void>;
  readonly finished: Promise<void>;
}

/** The part of `Deno.ServeHandlerInfo` the library uses. */
export interface _DenoServeHandlerInfoLike {
  readonly completed: Promise<void>;
}

/** The part of the `Deno` namespace the library uses. */
export interface _DenoLike {
  serve(
    options: {
      port: number;
      hostname: string;
      cert?: string;
      key?: string;
      reusePort?: boolean;
      onListen: () => void;
      handler: (request: Request, info: _DenoServeHandlerInfoLike) => Response | Promise<Response>;
    },
  ): _DenoServerLike & { readonly addr: { hostname: string; port: number } | object };
  upgradeWebSocket(request: Request, options?: object): { response: Response; socket: WebSocket };
  addSignalListener(signal: SignalName, handler: () => void): void;
  removeSignalListener(signal: SignalName, handler: () => void): void;
  exit(code?: number): never;
  readonly version?: { readonly deno?: string };
}

/** Whether `value` looks like a `Deno.HttpServer`. */
export function _isDenoServer(value: unknown): value is _DenoServerLike {
  return typeof value === "object" && value !== null &&
    typeof (value as _DenoServerLike).shutdown === "function" &&
    (value as _DenoServerLike).finished instanceof Promise;
}

/** Wraps a `Deno.HttpServer` of Deno `release` for the shutdown sequence. */
export function _denoServer(server: _DenoServerLike, release?: string): _RuntimeServer {
  const released = Promise.withResolvers<void>();
  return {
    runtime: "deno",
    waitsForUploads: true,
    // Deno 2.9: shutdown() drops every open WebSocket at once (1001, no handshake).
    closesWebSockets: true,
    close: () => Promise.race([server.shutdown(), released.promise]),
    // Deno 2.9: aborting ServeOptions.signal after shutdown() throws an uncaught BadResource and
    // kills the process, so there is no runtime-level force; the library errors bodies itself.
    force: () => {},
    settleIdle: () => {
      // Deno ≤ 2.8.2: shutdown() neither serves nor closes a connection that has not sent a whole
      // request head, and stays pending while one is open (denoland/deno#31959; fixed in 2.8.3,
      // tests/compat/repros/deno_unstarted_connection.ts). Nothing tells such a connection from
      // a body still being written, so this goes by release.
      if (!_olderThan(release, "2.8.3")) return undefined;
      released.resolve();
      return `Deno ${release}: shutdown() is still waiting with nothing in flight (connections ` +
        `that never sent a whole request, fixed in Deno 2.8.3); finishing without it`;
    },
    pending: () => undefined,
  };
}

/** The process side of Deno, for serve(). */
export function _denoRuntime(deno: _DenoLike): _Runtime {
  return {
    name: "deno",
    listen(options: _ListenOptions, fetch: _Fetch): _Listening {
      const server = deno.serve({
        port: options.port,
        hostname: options.hostname,
        ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
        ...(options.reusePort ? { reusePort: true } : {}),
        onListen: () => {},
        handler: fetch as (request: Request) => Response,
      });
      const addr = server.addr as { hostname: string; port: number };
      const release = deno.version?.deno;
      return { server: _denoServer(server, release), hostname: addr.hostname, port: addr.port };
    },
    onSignal(name: SignalName, listener: () => void): () => void {
      deno.addSignalListener(name, listener);
      return () => deno.removeSignalListener(name, listener);
    },
    process: globalThis,
    exit(code: number): void {
      deno.exit(code);
    },
  };
}

/**
 * The per-request side of Deno. `internals: false` takes the public-API path even where the
 * probes would succeed (tests, and GRACEFUL_SERVE_INTERNALS=off).
 */
export function _denoHost(deno: _DenoLike, internals: boolean): _Host {
  const found: _DenoInternals = internals
    ? _denoInternals()
    : { wholeBody: undefined, streamSlots: undefined };
  const missing = [
    found.wholeBody === undefined ? "whole-body test" : undefined,
    found.streamSlots === undefined ? "in-place stream ending" : undefined,
  ].filter((name) => name !== undefined);
  const release = deno.version?.deno ?? "unknown";
  return {
    name: "deno",
    // Deno 2.9 serves a handler that declares no parameters on a faster path (no Request, no
    // info for plain requests); the wrapper of such a handler declares none either (defaulted
    // parameters do not count). Without the whole-body test, nothing would tell when a string
    // body was delivered on that path, so the wrapper then always asks for `info`.
    wrapFetch: (handler, handle) =>
      (handler.length === 0 && found.wholeBody !== undefined
        ? (request: Request | undefined = undefined, arg: never = undefined as never) =>
          handle(request, arg)
        : (request: Request, arg: never) => handle(request, arg)) as unknown as typeof handler,
    respond: (core) => _denoRespond(core, found),
    trackUpgrades: () => _trackDenoUpgrades(deno),
    warning: _belowRange("deno", deno.version?.deno),
    fallback: missing.length === 0
      ? undefined
      : `Deno ${release}: ${
        internals ? "runtime internals not found" : "runtime internals switched off"
      } (${missing.join(", ")}); using the public-API path${
        found.wholeBody === undefined
          ? " (a body streamed before a shutdown is left to the server's own shutdown, and " +
            "not counted)"
          : ""
      }`,
  };
}
