// `deno serve`: Deno 2.9.5 serves a module's default export once the module ran, through the
// global `Deno.serve` (the options carry Symbol(kLoadBalanced)), and then adds its own SIGTERM
// and SIGINT listener that calls that server's shutdown() at once: no lame duck, no deadline, and
// an endless stream keeps it waiting forever. The library takes that one server instead, and
// Deno's listener then asks for the library's shutdown.

import type { _DefaultExportRuntime, _Runtime } from "../types.ts";
import { _denoServer, type _DenoServerLike } from "./adapter.ts";

/** The part of the `Deno` namespace that `deno serve` goes through. */
export interface _DenoServeCommandLike {
  serve: (this: unknown, options: unknown, ...rest: unknown[]) => unknown;
  exitCode: number;
  exit(code?: number): never;
}

/** `deno serve`'s way of serving a default export, for gracefulExport(). */
export function _denoDefaultExport(
  deno: _DenoServeCommandLike,
  runtime: _Runtime,
): _DefaultExportRuntime {
  let oneWorker = false;
  return {
    runtime,
    capture(_exported, served, stop) {
      const original = deno.serve;
      deno.serve = function (this: unknown, options: unknown, ...rest: unknown[]): unknown {
        const loadBalanced = _loadBalanced(options);
        if (loadBalanced === undefined) return original.call(this, options, ...rest);
        deno.serve = original;
        const server = original.call(this, options, ...rest) as _DenoServerLike;
        oneWorker = !loadBalanced;
        const release = (deno as { version?: { deno?: string } }).version?.deno;
        const addr = (server as { addr?: { hostname: string; port: number } }).addr;
        served(_denoServer(server, release), addr);
        // deno serve only calls shutdown() on what it gets back (its signal listener).
        return Object.create(server, { shutdown: { value: stop } });
      };
    },
    finish(code) {
      // Deno 2.9.5 --parallel: Deno.exit() in one worker ends every worker's requests; the
      // process exits once every worker's loop ended, with the first non-zero exit code.
      if (oneWorker) deno.exit(code);
      else deno.exitCode = code;
    },
  };
}

/**
 * Deno 2.9.5: the options of the declarative server carry Symbol(kLoadBalanced), false when one
 * worker serves, true in each worker under --parallel. `undefined`: not that call.
 */
function _loadBalanced(options: unknown): boolean | undefined {
  if (typeof options !== "object" || options === null) return undefined;
  for (const key of Object.getOwnPropertySymbols(options)) {
    if (key.description === "kLoadBalanced") {
      return (options as Record<symbol, unknown>)[key] === true;
    }
  }
  return undefined;
}
