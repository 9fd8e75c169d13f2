// Listening on Node: @hono/node-server (an optional peer dependency) is loaded here, when serve()
// first runs on Node, never at import time and never on Deno or Bun. It is required, not
// imported, because serve() is synchronous and returns the bound port.

import type { SignalName } from "../../signals.ts";
import type { _Fetch, _ListenOptions } from "../types.ts";
import type { _NodeServerLike } from "./server.ts";

/** The part of Node's `process` the library uses. */
export interface _NodeProcessLike {
  on(event: SignalName, listener: () => void): unknown;
  off(event: SignalName, listener: () => void): unknown;
  exit(code?: number): never;
  /** Node ≥22.3 (and 20.16): a built-in module without an import. */
  getBuiltinModule(id: "node:module"): {
    createRequire(path: string): (id: string) => unknown;
  };
  getBuiltinModule(id: "node:https"): { createServer: unknown };
  getBuiltinModule(id: "node:http2"): { createSecureServer: unknown };
}

/** The part of @hono/node-server the library uses. */
interface _NodeServerModule {
  createAdaptorServer(options: {
    fetch: _Fetch;
    createServer?: unknown;
    serverOptions?: { cert: string; key: string; allowHTTP1?: boolean };
  }): _NodeServerLike;
}

/** The peer dependency serve() needs on Node. */
export const _NODE_SERVER_PACKAGE = "@hono/node-server";

// `deno publish` warns that it cannot analyze the require below: on purpose, since the package
// must come from the app's own node_modules, not from an npm: specifier written in at publish.
function _loadNodeServer(process: _NodeProcessLike): _NodeServerModule {
  const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);
  try {
    return require(_NODE_SERVER_PACKAGE) as _NodeServerModule;
  } catch (error) {
    if ((error as { code?: string }).code !== "MODULE_NOT_FOUND") throw error;
    throw new Error(
      `serve() on Node needs ${_NODE_SERVER_PACKAGE} (npm install ${_NODE_SERVER_PACKAGE}), ` +
        `which was not found`,
      { cause: error },
    );
  }
}

/** How @hono/node-server makes the server: plain HTTP, HTTPS, or HTTP/2 with HTTP/1.1 by ALPN. */
function _serverMaker(
  process: _NodeProcessLike,
  options: _ListenOptions,
): { createServer?: unknown; serverOptions?: { cert: string; key: string; allowHTTP1?: boolean } } {
  const tls = options.tls;
  if (tls === undefined) return {};
  const serverOptions = { cert: tls.cert, key: tls.key };
  if (!options.http2) {
    return { createServer: process.getBuiltinModule("node:https").createServer, serverOptions };
  }
  // allowHTTP1: clients without h2 in ALPN (curl --http1.1, old agents) still get HTTP/1.1.
  return {
    createServer: process.getBuiltinModule("node:http2").createSecureServer,
    serverOptions: { ...serverOptions, allowHTTP1: true },
  };
}

/**
 * Creates the server and starts listening. Node binds asynchronously (it looks the host up first,
 * even an IP address): `bound` gives the address, or rejects with the listen error (EADDRINUSE),
 * which would otherwise be the server's unhandled `error` event.
 */
export function _nodeListen(
  process: _NodeProcessLike,
  options: _ListenOptions,
  fetch: _Fetch,
): {
  server: _NodeServerLike;
  hostname: string;
  port: number;
  bound: Promise<{ hostname: string; port: number }>;
} {
  const { createAdaptorServer } = _loadNodeServer(process);
  const server = createAdaptorServer({ fetch, ..._serverMaker(process, options) });
  // @hono/node-ws: its sockets are tracked already (graceful's websocket()); it needs the server.
  (options.websocket as { injectWebSocket?(server: _NodeServerLike): void } | undefined)
    ?.injectWebSocket?.(server);
  const bound = new Promise<{ hostname: string; port: number }>((resolve, reject) => {
    const failed = (error: Error): void => reject(error);
    server.once("error", failed);
    server.once("listening", () => {
      server.off("error", failed);
      const address = server.address();
      resolve(
        typeof address === "object" && address !== null
          ? { hostname: address.address, port: address.port }
          : { hostname: options.hostname, port: options.port },
      );
    });
  });
  server.listen({
    port: options.port,
    host: options.hostname,
    ...(options.reusePort ? { reusePort: true } : {}),
  });
  return { server, hostname: options.hostname, port: options.port, bound };
}
