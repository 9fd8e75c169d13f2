// Runtime detection: the one place where runtime globals are read, by feature, when called
// (never at import time). Tests inject capabilities instead of changing globals.

import { _bunHost, _bunRuntime, _bunServer, _isBunServer } from "./bun/adapter.ts";
import type { _BunLike, _ProcessLike } from "./bun/adapter.ts";
import { _denoHost, _denoRuntime, _denoServer, _isDenoServer } from "./deno/adapter.ts";
import type { _DenoLike } from "./deno/adapter.ts";
import { _nodeHost, _nodeRuntime } from "./node/adapter.ts";
import type { _NodeProcessLike } from "./node/listen.ts";
import { _isNodeServer, _nodeServer } from "./node/server.ts";
import type { _DefaultExportRuntime, _Host, _Runtime, _RuntimeServer } from "./types.ts";
import { _bunDefaultExport, type _BunServeLike } from "./bun/default_export.ts";
import { _denoDefaultExport, type _DenoServeCommandLike } from "./deno/serve_command.ts";

/** What the per-request path may use. */
export interface _Capabilities {
  /**
   * Runtime internals as guarded optimisations (Deno's symbol slots, @hono/node-server's body
   * cache). Off: public APIs only.
   * @default on, unless the environment variable GRACEFUL_SERVE_INTERNALS is "off"
   */
  internals: boolean;
}

/** The environment variable that switches the runtime-internal fast paths off. */
export const _INTERNALS_ENV = "GRACEFUL_SERVE_INTERNALS";

/** The capabilities the environment asks for. Never prompts for a permission on Deno. */
export function _capabilities(): _Capabilities {
  return { internals: _env(_INTERNALS_ENV) !== "off" };
}

function _env(name: string): string | undefined {
  const deno = (globalThis as { Deno?: { permissions?: unknown; env?: unknown } }).Deno;
  try {
    if (deno !== undefined) {
      const permissions = deno.permissions as
        | { querySync?(d: { name: "env"; variable: string }): { state: string } }
        | undefined;
      if (permissions?.querySync?.({ name: "env", variable: name }).state !== "granted") {
        return undefined;
      }
      return (deno.env as { get(name: string): string | undefined }).get(name);
    }
    const process = (globalThis as { process?: { env?: Record<string, string | undefined> } })
      .process;
    return process?.env?.[name];
  } catch {
    return undefined;
  }
}

/** The per-request side of the runtime this code runs on. */
export function _host(capabilities: _Capabilities = _capabilities()): _Host {
  const deno = (globalThis as { Deno?: _DenoLike }).Deno;
  if (deno !== undefined) return _denoHost(deno, capabilities.internals);
  const bun = (globalThis as { Bun?: _BunLike }).Bun;
  if (bun !== undefined) return _bunHost("bun", bun.version);
  if (_isNode()) return _nodeHost(capabilities.internals);
  return _bunHost("other");
}

/** The process side of the runtime this code runs on, for serve(). */
export function _detectRuntime(where: string): _Runtime {
  const g = globalThis as { Deno?: _DenoLike; Bun?: _BunLike; process?: _ProcessLike };
  if (g.Deno !== undefined) return _denoRuntime(g.Deno);
  if (g.Bun !== undefined && g.process !== undefined) return _bunRuntime(g.Bun, g.process);
  if (_isNode()) return _nodeRuntime(g.process as _NodeProcessLike);
  throw new Error(
    `${where}: unsupported runtime (neither Deno, Bun nor Node was found); ` +
      `use graceful() and close your server yourself`,
  );
}

/** Node itself: Deno and Bun also have `process.versions.node`, so they are ruled out first. */
function _isNode(): boolean {
  const g = globalThis as { Deno?: unknown; Bun?: unknown; process?: unknown };
  if (g.Deno !== undefined || g.Bun !== undefined) return false;
  const process = g.process as { versions?: { node?: unknown } } | undefined;
  return typeof process?.versions?.node === "string";
}

/**
 * Adapts a runtime server (`Deno.HttpServer`, Bun's `Server`, or a Node `http.Server`,
 * `https.Server` or HTTP/2 server) for the shutdown sequence.
 */
export function _adaptServer(where: string, server: unknown): _RuntimeServer {
  const g = globalThis as { Deno?: _DenoLike; Bun?: _BunLike };
  if (_isDenoServer(server)) return _denoServer(server, g.Deno?.version?.deno);
  if (_isBunServer(server)) return _bunServer(server, g.Bun?.version);
  if (_isNodeServer(server)) return _nodeServer(server);
  throw new TypeError(
    `${where}: expected the server returned by Deno.serve() or Bun.serve(), or a Node ` +
      `http/https/http2 server (as @hono/node-server's serve() returns), received ${
        server === null
          ? "null"
          : typeof server === "object"
          ? "an object without shutdown()/stop()/close()"
          : typeof server
      }`,
  );
}

/** How the runtime this code runs on serves a module's default export, for gracefulExport(). */
export function _detectDefaultExport(where: string): _DefaultExportRuntime {
  const g = globalThis as { Deno?: _DenoLike; Bun?: _BunLike; process?: _ProcessLike };
  if (g.Deno !== undefined) {
    return _denoDefaultExport(g.Deno as unknown as _DenoServeCommandLike, _denoRuntime(g.Deno));
  }
  if (g.Bun !== undefined && g.process !== undefined) {
    return _bunDefaultExport(g.Bun as unknown as _BunServeLike, _bunRuntime(g.Bun, g.process));
  }
  throw new Error(
    `${where}: unsupported runtime (a default export is served by \`deno serve\` or Bun); ` +
      `use serve() instead`,
  );
}
