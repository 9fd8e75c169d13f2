// Bun's default export: Bun 1.4.5's entry point (`bun:main`) calls the global `Bun.serve` with the
// module's default export once the module ran, and adds no signal listener (SIGTERM kills the
// process at once). The library takes the server of that one call. Bun reads the export's `fetch`
// right before that call; a read with no call in the same turn means Bun served the export by
// another way (an internal serve), which is reported rather than left to fail silently.

import type { _DefaultExportRuntime, _Runtime } from "../types.ts";
import { _bunServer, type _BunServerLike } from "./adapter.ts";

/** The part of the `Bun` global that its default export goes through. */
export interface _BunServeLike {
  serve: (this: unknown, options: unknown, ...rest: unknown[]) => unknown;
}

/** Bun's way of serving a default export, for gracefulExport(). */
export function _bunDefaultExport(bun: _BunServeLike, runtime: _Runtime): _DefaultExportRuntime {
  return {
    runtime,
    capture(exported, served, _stop, bypassed) {
      const original = bun.serve;
      let taken = false;
      const fetch = (exported as { fetch?: unknown }).fetch;
      let read = false;
      Object.defineProperty(exported, "fetch", {
        configurable: true,
        enumerable: true,
        get() {
          if (!read && bypassed !== undefined) {
            read = true;
            setTimeout(() => taken || bypassed(), 0);
          }
          return fetch;
        },
      });
      bun.serve = function (this: unknown, options: unknown, ...rest: unknown[]): unknown {
        if (options !== exported) return original.call(this, options, ...rest);
        bun.serve = original;
        taken = true;
        const server = original.call(this, options, ...rest) as _BunServerLike & {
          hostname?: string;
          port?: number;
        };
        served(_bunServer(server), { hostname: server.hostname ?? "", port: server.port ?? 0 });
        return server;
      };
    },
    finish: (code) => runtime.exit(code),
  };
}
