// Compile-time check (tsc with bun-types): Bun's real API satisfies the structural types the
// library uses, so a Bun API change breaks the build instead of a shutdown.

import type { ServerWebSocket } from "bun";
import type {
  _BunLike as BunLike,
  _BunServerLike as BunServerLike,
} from "../../src/runtime/bun/adapter.ts";
import type { _BunWebSocketLike as BunWebSocketLike } from "../../src/runtime/bun/websocket.ts";

export function _checkBun(
  bun: typeof Bun,
  server: ReturnType<typeof Bun.serve>,
  ws: ServerWebSocket<unknown>,
): void {
  const asServer: BunServerLike = server;
  // The handlers are the user's own object, passed through (typed by the user against bun-types).
  const serveFn: BunLike["serve"] = (options) =>
    bun.serve({ ...options, websocket: options.websocket as never });
  const asSocket: BunWebSocketLike = ws;
  void asServer;
  void serveFn;
  void asSocket;
}
