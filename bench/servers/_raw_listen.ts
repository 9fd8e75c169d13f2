// The raw runtime server of the benchmark fixtures: Deno.serve or Bun.serve, nothing else.

/** A fetch handler as both runtimes call it. */
export type RawHandler = (request: Request) => Response | Promise<Response>;

/** The part of Bun's server the fixtures use. */
interface BunServer {
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

/** The part of the `Bun` global this module uses. */
interface BunServe {
  serve(options: { port: number; hostname: string; fetch: RawHandler }): BunServer;
}

/** Starts the runtime's own server; returns its port and its graceful close. */
export function listenRaw(
  where: string,
  port: number,
  hostname: string,
  handler: RawHandler,
): { port: number; close: () => Promise<void> } {
  if ("Deno" in globalThis) {
    const server = Deno.serve({ port, hostname, onListen: () => {} }, handler);
    return { port: server.addr.port, close: () => server.shutdown() };
  }
  if ("Bun" in globalThis) {
    const bun = (globalThis as unknown as { Bun: BunServe }).Bun;
    const server = bun.serve({ port, hostname, fetch: handler });
    return { port: server.port, close: () => server.stop() };
  }
  throw new Error(`${where}: run this under Deno or Bun`);
}
