// Deno adapter. Deno is reached through a small structural type so that this file also
// type-checks under Bun's types; tests/types/deno_types_check.ts checks it against Deno's own.

import type { SignalName } from "../signals.ts";
import type { _Fetch, _Listening, _ListenOptions, Runtime, RuntimeServer } from "./types.ts";

/** The part of `Deno.HttpServer` the library uses. */
export interface DenoServerLike {
  shutdown(): Promise<void>;
  readonly finished: Promise<void>;
}

/** The part of the `Deno` namespace the library uses. */
export interface DenoLike {
  serve(
    options: {
      port: number;
      hostname: string;
      cert?: string;
      key?: string;
      reusePort?: boolean;
      onListen: () => void;
      handler: (request: Request, info: DenoServeHandlerInfoLike) => Response | Promise<Response>;
    },
  ): DenoServerLike & { readonly addr: { hostname: string; port: number } | object };
  addSignalListener(signal: SignalName, handler: () => void): void;
  removeSignalListener(signal: SignalName, handler: () => void): void;
  exit(code?: number): never;
}

/** The part of `Deno.ServeHandlerInfo` the library uses. */
export interface DenoServeHandlerInfoLike {
  readonly completed: Promise<void>;
}

/** Whether `value` looks like a `Deno.HttpServer`. */
export function _isDenoServer(value: unknown): value is DenoServerLike {
  return typeof value === "object" && value !== null &&
    typeof (value as DenoServerLike).shutdown === "function" &&
    (value as DenoServerLike).finished instanceof Promise;
}

/** Wraps a `Deno.HttpServer` for the shutdown sequence. */
export function _denoServer(server: DenoServerLike): RuntimeServer {
  return {
    runtime: "deno",
    waitsForUploads: true,
    close: () => server.shutdown(),
    // Deno 2.9: aborting ServeOptions.signal after shutdown() throws an uncaught BadResource and
    // kills the process, so there is no runtime-level force; the library errors bodies itself.
    force: () => {},
    pending: () => undefined,
  };
}

/** The Deno runtime adapter. */
export function _denoRuntime(): Runtime {
  const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
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
      return { server: _denoServer(server), hostname: addr.hostname, port: addr.port };
    },
    onSignal(name: SignalName, listener: () => void): () => void {
      deno.addSignalListener(name, listener);
      return () => deno.removeSignalListener(name, listener);
    },
    exit(code: number): void {
      deno.exit(code);
    },
  };
}
