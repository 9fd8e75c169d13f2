// Bun's default export: Bun 1.4.5's entry point (`bun:main`) calls the global `Bun.serve` with the
// module's default export once the module ran, and adds no signal listener (SIGTERM kills the
// process at once). The library takes the server of that one call.

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
    capture(exported, served) {
      const original = bun.serve;
      bun.serve = function (this: unknown, options: unknown, ...rest: unknown[]): unknown {
        if (options !== exported) return original.call(this, options, ...rest);
        bun.serve = original;
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
