// Compile-time check (deno check): Deno's real API satisfies the structural types the library
// uses, so a Deno API change breaks the build instead of a shutdown.

import type {
  _DenoLike as DenoLike,
  _DenoServeHandlerInfoLike as DenoServeHandlerInfoLike,
  _DenoServerLike as DenoServerLike,
} from "../../src/runtime/deno/adapter.ts";

export function _checkDeno(server: Deno.HttpServer, info: Deno.ServeHandlerInfo): void {
  const asServer: DenoServerLike = server;
  const asInfo: DenoServeHandlerInfoLike = info;
  const serveFn: DenoLike["serve"] = (options) => Deno.serve(options);
  const listen: DenoLike["addSignalListener"] = Deno.addSignalListener;
  const upgrade: DenoLike["upgradeWebSocket"] = Deno.upgradeWebSocket;
  void upgrade;
  void asServer;
  void asInfo;
  void serveFn;
  void listen;
}
