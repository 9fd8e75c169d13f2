// What the runtime the servers run on does by itself, probed on a raw Deno.serve / Bun.serve server
// (_raw_server.ts, no library) started on the same binary. Where the runtime lines differ and the
// library cannot (or need not) change it, a test expects of the library what the runtime does,
// instead of sniffing the release: the probe is the feature test.

import {
  ClosedBeforeResponse,
  outcomeOf,
  RawConnection,
  requestHead,
  type RuntimeName,
  startDemo,
  within,
} from "./_harness.ts";

/** How the runtime's own HTTP/1.1 server treats a keep-alive connection. */
export interface Http1Behaviour {
  /**
   * A `Connection: close` header set by the handler closes the connection after the response, so
   * a request pipelined behind it is never answered. True on Deno ≤ 2.8.2 (hyper) and Bun 1.4.5;
   * false on Deno 2.8.3+ and Bun ≤ 1.3.14, which send the header and keep serving
   * (tests/compat/repros/deno_connection_close_header.ts, bun_connection_close_header.ts).
   */
  connectionCloseHeaderCloses: boolean;
  /**
   * A graceful stop closes an idle keep-alive connection at once. False on Bun ≤ 1.3.14, whose
   * stop() leaves it open and keeps serving it until the process exits (fixed by
   * oven-sh/bun#37074; tests/compat/repros/bun_idle_keepalive_stop.ts).
   */
  stopClosesIdleKeepAlive: boolean;
}

const _probes = new Map<RuntimeName, Promise<Http1Behaviour>>();

/** What `runtime`'s servers do with keep-alive connections (probed once per runtime). */
export function http1Behaviour(runtime: RuntimeName): Promise<Http1Behaviour> {
  let probe = _probes.get(runtime);
  if (probe === undefined) {
    probe = _probeHttp1(runtime);
    _probes.set(runtime, probe);
  }
  return probe;
}

async function _probeHttp1(runtime: RuntimeName): Promise<Http1Behaviour> {
  const server = await startDemo(runtime, {}, { script: "tests/integration/_raw_server.ts" });
  try {
    // Two requests in one write; the first is answered with Connection: close.
    const pipelined = await RawConnection.connect(server.port);
    await pipelined.write(requestHead("GET", "/close") + requestHead("GET", "/close"));
    await pipelined.response();
    const second = await outcomeOf(pipelined, 3_000);
    pipelined.destroy();

    const idle = await RawConnection.connect(server.port);
    await idle.write(requestHead("GET", "/"));
    await idle.response();
    const stopper = await RawConnection.connect(server.port);
    await stopper.write(requestHead("GET", "/stop"));
    await stopper.response();
    const closed = await within(idle.closed, 1_000, "").then(() => true, () => false);
    idle.destroy();
    stopper.destroy();
    return {
      connectionCloseHeaderCloses: second instanceof ClosedBeforeResponse && second.bytes === 0,
      stopClosesIdleKeepAlive: closed,
    };
  } finally {
    server.kill("SIGKILL");
    await server.exited;
  }
}
