// One row of the rolling-restart table: two instances, load for a fixed time, and each instance in
// turn sent SIGTERM and replaced while the load runs.
//
// Topologies:
// - `reload`: wrk -> nginx -> two instances. The replacement starts on a new port; then, in the
//   same instant, nginx is reloaded with the new list of instances and the old instance gets
//   SIGTERM (as in Kubernetes, where removing the endpoint and SIGTERM race each other). wrk sends
//   `Connection: close` on every request: a reload closes the old nginx worker's idle client
//   keep-alive connections, which a keep-alive client counts as read errors whatever the
//   instances do.
// - `same-port`: wrk -> nginx -> two instances on fixed ports, no reload. An instance gets SIGTERM
//   while nginx still routes to it (nginx has no active health checks: it learns only from failed
//   connections); its replacement starts on the same port once the old process has exited.
// - `reuseport`: wrk -> one port shared by two instances with SO_REUSEPORT, no proxy. The
//   replacement joins the port first, then the old instance gets SIGTERM.
// - `reload-only`: a control for `reload`: nginx is reloaded at the same moments, but no instance
//   is touched; whatever fails comes from the proxy and the client, not from a shutdown.

import { join } from "node:path";
import type { Children, Stopped } from "../../../tools/lib/children.ts";
import type { RuntimeName } from "../../../tools/lib/runtimes.ts";
import {
  expectedExit,
  type Instance,
  type InstanceSpec,
  type ServerKind,
  startInstance,
  stopInstance,
} from "./instances.ts";
import {
  FAIL_TIMEOUT_S,
  type LoggedRequest,
  type Nginx,
  parseAccessLog,
  reloadsApplied,
  startNginx,
  upstreamErrors,
} from "./nginx.ts";
import { type LoadResult, startLoad } from "./load.ts";

/** Where the load goes, and how an instance is replaced (see the top of this file). */
export type Topology = "reload" | "same-port" | "reuseport" | "reload-only";

/** One row. */
export interface RowSpec {
  runtime: RuntimeName;
  topology: Topology;
  server: ServerKind;
  /** The library's `DRAIN_DELAY_MS` (0 for the baselines). */
  drainDelayMs: number | null;
  /**
   * How wrk talks to its target: one connection per request (`close`), or kept alive.
   * @default "close" for `reload` and `reload-only`, "keep-alive" otherwise
   */
  client?: "close" | "keep-alive";
}

/** The client mode a row uses. */
export function clientOf(spec: RowSpec): "close" | "keep-alive" {
  return spec.client ??
    (spec.topology === "reload" || spec.topology === "reload-only" ? "close" : "keep-alive");
}

/** What the run needs to play a row. */
export interface RowContext {
  children: Children;
  root: string;
  /** A directory of its own for this row (nginx files); removed by the caller. */
  dir: string;
  nginxBin: string;
  wrkBin: string;
  /** Absolute path of mix.lua. */
  luaScript: string;
  durationS: number;
  /** How many restarts, alternating instances a, b, a, … */
  restarts: number;
  /** Log progress. */
  log: (line: string) => void;
}

/** One SIGTERM and replacement. */
export interface Restart {
  /** `a` or `b`; `-` for a reload with no restart (`reload-only`). */
  instance: string;
  port: number;
  /** ms from the start of the load to the SIGTERM. */
  sigtermAtMs: number;
  /** ms from the SIGTERM to the old process's exit. */
  exitAfterMs: number;
  /** The old process's exit code, or the signal that killed it. */
  exit: string;
  /** Whether the exit is the expected one for this server (0, or killed for `raw-exit`). */
  exitAsExpected: boolean;
  /** Whether it had to be SIGKILLed. */
  killed: boolean;
  /** ms from the SIGTERM to the replacement's `listening on` (negative: it started before). */
  replacementListeningAfterMs: number;
  /** What the old instance wrote to stderr (the library's shutdown log). */
  stderr: string;
  /** nginx only: requests the old instance answered after its SIGTERM. */
  servedAfterSigterm?: number;
  /** nginx only: ms from the SIGTERM to the last of them (nginx's log time). */
  lastServedAfterMs?: number;
}

/** A request that failed at the proxy, placed relative to the SIGTERM before it. */
export interface ProxyFailure {
  status: number;
  method: string;
  uri: string;
  upstreams: string;
  upstreamStatuses: string;
  /** Which restart it follows (index into `restarts`), or -1 when before the first. */
  restart: number;
  /** ms after that SIGTERM. */
  afterSigtermMs: number;
}

/** A row's outcome. */
export interface RowResult {
  spec: RowSpec;
  /** Outcome counts; absent when the row could not run. */
  load?: LoadResult;
  /** Every non-2xx, socket error and bad body. */
  failures: number;
  restarts: Restart[];
  /** nginx only: requests that failed on one instance and were answered by the other. */
  retriedOk?: number;
  /** nginx only: every non-2xx answer, placed in time. */
  proxyFailures?: ProxyFailure[];
  /** nginx only: the error log's upstream errors by kind. */
  upstreamErrors?: Record<string, number>;
  /** Anything that makes the row unreliable (a late restart, an unexpected exit, …). */
  problems: string[];
  /** Remarks that do not invalidate the row (e.g. fewer requests than the full mode wants). */
  notes: string[];
  /** Set when the row could not run at all. */
  error?: string;
}

/** The failure count of a load: every non-2xx, every socket error, every bad body. */
export function failuresOf(load: LoadResult): number {
  let failures = load.badBody;
  for (const [status, count] of Object.entries(load.status)) {
    if (!/^2\d\d$/.test(status)) failures += count;
  }
  const e = load.socketErrors;
  return failures + e.connect + e.read + e.write + e.timeout;
}

/** A free TCP port on 127.0.0.1 (closed again; nginx binds it right after). */
function _freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function _sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
}

function _stderrTail(text: string): string {
  return text.trim().split("\n").slice(-12).join("\n");
}

/**
 * The earliest a restart may start after the previous one completed. Behind nginx without a
 * reload, a replaced instance may be marked failed for FAIL_TIMEOUT_S after its port refused a
 * connection; sending SIGTERM to the other one inside that window would leave nginx with no live
 * instance, a failure of the test setup rather than of the server.
 */
function _gapMs(topology: Topology): number {
  return topology === "same-port" ? FAIL_TIMEOUT_S * 1000 + 500 : 500;
}

/** Plays one row. Never throws: a row that cannot run comes back with `error`. */
export async function runRow(spec: RowSpec, ctx: RowContext): Promise<RowResult> {
  const result: RowResult = { spec, failures: 0, restarts: [], problems: [], notes: [] };
  const instanceSpec: InstanceSpec = {
    runtime: spec.runtime,
    server: spec.server,
    drainDelayMs: spec.drainDelayMs,
    reusePort: spec.topology === "reuseport",
  };
  const names = ["a", "b"] as const;
  const generation = { a: 1, b: 1 };
  const live = new Map<string, Instance>();
  const start = (port: number, label: string): Promise<Instance> =>
    startInstance(ctx.children, ctx.root, instanceSpec, port, label);
  let nginx: Nginx | undefined;
  try {
    // Two instances; with reuseport the second joins the first one's port.
    const a = await start(0, "a#1");
    live.set("a", a);
    const b = await start(spec.topology === "reuseport" ? a.port : 0, "b#1");
    live.set("b", b);

    let url = `http://127.0.0.1:${a.port}/`;
    if (spec.topology !== "reuseport") {
      nginx = await startNginx(ctx.children, {
        bin: ctx.nginxBin,
        dir: ctx.dir,
        listenPort: _freePort(),
        upstreamPorts: [a.port, b.port],
      });
      url = `http://127.0.0.1:${nginx.port}/`;
    }

    const load = startLoad(ctx.children, url, {
      bin: ctx.wrkBin,
      script: ctx.luaScript,
      durationS: ctx.durationS,
      cwd: ctx.root,
      closeEachRequest: clientOf(spec) === "close",
    });
    const endsAt = load.startedAt + ctx.durationS * 1000;
    let notBefore = 0;
    for (let k = 0; k < ctx.restarts; k++) {
      const name = names[k % 2]!;
      const scheduled = load.startedAt + ((k + 1) / (ctx.restarts + 1)) * ctx.durationS * 1000;
      await _sleepUntil(Math.max(scheduled, notBefore));
      if (load.child.exit) {
        result.problems.push(`restart ${k + 1} (${name}) did not happen: the load had ended`);
        break;
      }
      if (spec.topology === "reload-only") {
        nginx!.reload();
        result.restarts.push({
          instance: "-",
          port: nginx!.port,
          sigtermAtMs: Date.now() - load.startedAt,
          exitAfterMs: 0,
          exit: "none",
          exitAsExpected: true,
          killed: false,
          replacementListeningAfterMs: 0,
          stderr: "",
        });
        ctx.log(`  reload ${k + 1}/${ctx.restarts} at +${Date.now() - load.startedAt} ms`);
        notBefore = Date.now() + _gapMs(spec.topology);
        continue;
      }
      const old = live.get(name)!;
      const label = `${name}#${++generation[name]}`;
      let fresh: Instance;
      let sigtermAt: number;
      let stopped: Stopped;
      if (spec.topology === "same-port") {
        // The port must be free: SIGTERM, wait for the exit, start the replacement on it.
        sigtermAt = Date.now();
        stopped = await stopInstance(ctx.children, old);
        fresh = await start(old.port, label);
      } else if (spec.topology === "reuseport") {
        // Start before stop: the new process joins the SO_REUSEPORT group first.
        fresh = await start(old.port, label);
        sigtermAt = Date.now();
        stopped = await stopInstance(ctx.children, old);
      } else {
        // Start before stop on a new port; take the old one out of nginx and SIGTERM it at once.
        fresh = await start(0, label);
        const other = live.get(names[(k + 1) % 2]!)!;
        await nginx!.writeConfig([fresh.port, other.port].sort((x, y) => x - y));
        nginx!.reload();
        sigtermAt = Date.now();
        stopped = await stopInstance(ctx.children, old);
      }
      live.set(name, fresh);
      const expected = expectedExit(spec.server, stopped.exit);
      const exit = stopped.exit.signal ?? `code ${stopped.exit.code}`;
      result.restarts.push({
        instance: name,
        port: old.port,
        sigtermAtMs: sigtermAt - load.startedAt,
        exitAfterMs: stopped.exit.at - sigtermAt,
        exit,
        exitAsExpected: expected.ok,
        killed: stopped.killed,
        replacementListeningAfterMs: fresh.listeningAt - sigtermAt,
        stderr: _stderrTail(old.child.stderr),
      });
      if (!expected.ok) {
        result.problems.push(`${old.label} exited with ${exit}; expected ${expected.expected}`);
      }
      ctx.log(
        `  restart ${k + 1}/${ctx.restarts}: ${old.label} SIGTERM at ` +
          `+${sigtermAt - load.startedAt} ms, exited ${exit} after ` +
          `${stopped.exit.at - sigtermAt} ms; ${label} listening ` +
          `${fresh.listeningAt - sigtermAt} ms after the SIGTERM`,
      );
      notBefore = Date.now() + _gapMs(spec.topology);
      if (Date.now() > endsAt - 250) {
        result.problems.push(`restart ${k + 1} finished less than 250 ms before the load's end`);
      }
    }

    result.load = await load.result;
    result.failures = failuresOf(result.load);

    if (nginx) {
      await nginx.stop();
      const accessLog = await Deno.readTextFile(join(ctx.dir, "access.log")).catch(() => "");
      const errorLog = await Deno.readTextFile(join(ctx.dir, "error.log")).catch(() => "");
      const logged = parseAccessLog(accessLog);
      const sigterms = result.restarts.map((r) => load.startedAt + r.sigtermAtMs);
      result.restarts.forEach((r, i) => {
        if (r.instance === "-") return;
        // Answered by the old process: its port, between its SIGTERM and its exit.
        const from = sigterms[i]!;
        const until = from + r.exitAfterMs;
        const served = logged.filter((l) =>
          l.status < 300 && l.at >= from && l.at <= until &&
          l.upstreams.at(-1) === `127.0.0.1:${r.port}`
        );
        r.servedAfterSigterm = served.length;
        r.lastServedAfterMs = served.reduce((last, l) => Math.max(last, l.at - from), 0);
      });
      result.retriedOk = logged.filter((r) => r.status < 300 && r.upstreams.length > 1).length;
      // wrk closes its connections when its time is up: requests still in flight then show as
      // 499 (client closed the connection) and were never counted by wrk.
      const loadEnd = load.child.exit?.at ?? Date.now();
      result.proxyFailures = logged
        .filter((r) => r.status >= 300 && !(r.status === 499 && r.at >= loadEnd - 50))
        .map((r) => _placeFailure(r, sigterms));
      result.upstreamErrors = upstreamErrors(errorLog);
      if (spec.topology === "reload" || spec.topology === "reload-only") {
        const applied = reloadsApplied(errorLog);
        if (applied !== result.restarts.length) {
          result.problems.push(
            `nginx applied ${applied} reload(s) for ${result.restarts.length} restart(s)`,
          );
        }
      }
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  } finally {
    if (nginx && !nginx.child.exit) await nginx.stop();
    for (const instance of live.values()) {
      if (!instance.child.exit) {
        await ctx.children.stop(instance.child, { signal: "SIGKILL", graceMs: 5_000 });
      }
    }
    await ctx.children.killAllAndWait();
  }
  return result;
}

function _placeFailure(request: LoggedRequest, sigterms: readonly number[]): ProxyFailure {
  let restart = -1;
  for (let i = 0; i < sigterms.length; i++) if (sigterms[i]! <= request.at) restart = i;
  return {
    status: request.status,
    method: request.method,
    uri: request.uri,
    upstreams: request.upstreams.join(", "),
    upstreamStatuses: request.upstreamStatuses.join(", "),
    restart,
    afterSigtermMs: restart >= 0 ? request.at - sigterms[restart]! : NaN,
  };
}
