// Compile-time check (tsc with @types/node and @hono/node-server's types): Node's real API
// satisfies the structural types the library uses, so an API change breaks the build instead of a
// shutdown.

import type { createAdaptorServer } from "@hono/node-server";
import type { HttpBindings } from "@hono/node-server";
import type { Server } from "node:http";
import type { Http2SecureServer, ServerHttp2Session } from "node:http2";
import type { _NodeProcessLike as NodeProcessLike } from "../../src/runtime/node/listen.ts";
import type { _NodeBindingsLike as NodeBindingsLike } from "../../src/runtime/node/respond.ts";
import type {
  _NodeServerLike as NodeServerLike,
  _NodeSessionLike as NodeSessionLike,
} from "../../src/runtime/node/server.ts";

export function _checkNode(
  process: NodeJS.Process,
  server: Server,
  secure: Http2SecureServer,
  session: ServerHttp2Session,
  bindings: HttpBindings,
  create: typeof createAdaptorServer,
): void {
  const asProcess: NodeProcessLike = process;
  const asServer: NodeServerLike = server;
  const asSecure: NodeServerLike = secure;
  const asSession: NodeSessionLike = session;
  const asBindings: NodeBindingsLike = bindings;
  const asServerOfAdaptor: NodeServerLike = create({ fetch: () => new Response() });
  void asProcess;
  void asServer;
  void asSecure;
  void asSession;
  void asBindings;
  void asServerOfAdaptor;
}
