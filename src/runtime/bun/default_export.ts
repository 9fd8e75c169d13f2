// Bun's default export: Bun 1.4.5's entry point (`bun:main`) calls the global `Bun.serve` with the
// module's default export once the module ran, and adds no signal listener (SIGTERM kills the
// process at once). The library takes the server of that one call. Should a Bun serve the export
// another way (an internal serve), the server comes with the first request instead (Bun passes it
// to `fetch`), and that is reported rather than left to fail silently.

import type { _DefaultExportRuntime, _Runtime } from "../types.ts";
import { _bunServer, type _BunServerLike, _isBunServer } from "./adapter.ts";

/** The part of the `Bun` global that its default export goes through. */
export interface _BunServeLike {
  serve: (this: unknown, options: unknown, ...rest: unknown[]) => unknown;
}

type _BunServed = _BunServerLike & { hostname?: string; port?: number };
type _AnyFetch = (this: unknown, request: unknown, server: unknown) => unknown;

/** Bun's way of serving a default export, for gracefulExport(). */
export function _bunDefaultExport(bun: _BunServeLike, runtime: _Runtime): _DefaultExportRuntime {
  return {
    runtime,
    capture(exported, served, _stop, bypassed) {
      const original = bun.serve;
      let taken = false;
      const take = (server: _BunServed): void => {
        taken = true;
        served(_bunServer(server), { hostname: server.hostname ?? "", port: server.port ?? 0 });
      };
      const fetch = (exported as { fetch: _AnyFetch }).fetch;
      // What `fetch` reads as until the server is taken: Bun.serve reads it after that (the
      // handler itself); a Bun serving around the global gets this and its first request.
      const checking: _AnyFetch = function (request, server) {
        if (!taken && _isBunServer(server)) {
          take(server as _BunServed);
          bypassed?.();
        }
        return fetch.call(this, request, server);
      };
      Object.defineProperty(exported, "fetch", {
        configurable: true,
        enumerable: true,
        get: () => (taken ? fetch : checking),
      });
      bun.serve = function (this: unknown, options: unknown, ...rest: unknown[]): unknown {
        if (options !== exported) return original.call(this, options, ...rest);
        bun.serve = original;
        taken = true;
        const server = original.call(this, options, ...rest) as _BunServed;
        take(server);
        return server;
      };
    },
    finish: (code) => runtime.exit(code),
  };
}
