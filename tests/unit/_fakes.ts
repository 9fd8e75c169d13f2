// Fakes shared by the unit tests: a Deno-like server and a logger that records its lines.

import type { Logger } from "../../mod.ts";

/** A Deno-like server whose shutdown() the test settles, or that throws or rejects. */
export function denoServer(close: "settle" | "throw" | "reject" = "settle"): {
  shutdown: () => Promise<void>;
  finished: Promise<void>;
  closeCalls: number;
  settle: () => void;
} {
  const { promise, resolve } = Promise.withResolvers<void>();
  const server = {
    closeCalls: 0,
    finished: promise,
    shutdown: (): Promise<void> => {
      server.closeCalls++;
      if (close === "throw") throw new Error("close failed at once");
      if (close === "reject") return Promise.reject(new Error("close failed later"));
      return promise;
    },
    settle: resolve,
  };
  return server;
}

/** A logger that keeps every line, prefixed with its level. */
export function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}
