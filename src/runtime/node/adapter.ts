// The Node adapter: its process and the per-request path (its server is in server.ts). Node is
// reached through small structural types, with no static import of a node: module or of
// @hono/node-server, so that Deno and Bun never load them; tests/types/node_types_check.ts checks
// the types against @types/node.

import type { SignalName } from "../../signals.ts";
import type { _Fetch, _Host, _Listening, _ListenOptions, _Runtime } from "../types.ts";
import { _nodeListen, type _NodeProcessLike } from "./listen.ts";
import { _nodeRespond } from "./respond.ts";
import { _nodeServer } from "./server.ts";

/** The process side of Node, for serve(). */
export function _nodeRuntime(process: _NodeProcessLike): _Runtime {
  return {
    name: "node",
    listen(options: _ListenOptions, fetch: _Fetch): _Listening {
      const listening = _nodeListen(process, options, fetch);
      let listenError: Error | undefined;
      listening.bound.catch((error: Error) => (listenError = error));
      return { ...listening, server: _nodeServer(listening.server, () => listenError) };
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

/**
 * The per-request side of Node. `internals` allows reading @hono/node-server's body cache (an
 * optimisation, probed at the first response, logged when missing); off: public APIs only.
 */
export function _nodeHost(internals = true): _Host {
  return {
    name: "node",
    wrapFetch: (handler, handle) =>
      ((request: Request, arg: never) => handle(request, arg)) as unknown as typeof handler,
    respond: (core) => _nodeRespond(core, internals),
    trackUpgrades: () => {},
    // Logged by the response path, which knows whether SSE responses are looked for at all.
    fallback: undefined,
  };
}
