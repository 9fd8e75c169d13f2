// Compile-time check (tsc with bun-types): Bun's real API satisfies the structural types the
// library uses, so a Bun API change breaks the build instead of a shutdown.

import type { BunLike, BunServerLike } from "../../src/runtime/bun.ts";

export function _checkBun(bun: typeof Bun, server: ReturnType<typeof Bun.serve>): void {
  const asServer: BunServerLike = server;
  const serveFn: BunLike["serve"] = (options) => bun.serve(options);
  void asServer;
  void serveFn;
}
