// Keep-alive race scenario: a pool of keep-alive sockets sends requests to a fresh server, the
// server gets SIGTERM mid-load, and the pool keeps going until the server has exited. Every
// request is classified (bench/lib/race_client.ts); one run is one shutdown. The server is either
// the raw fixture (bench/servers/raw_shutdown.ts: the runtime's own shutdown()/stop() at once) or
// the demo (examples/demo.ts: serve() with DRAIN_DELAY_MS).

import { loadavg } from "node:os";
import { join, relative } from "node:path";
import type { Child } from "../../tools/lib/child.ts";
import type { Children } from "../../tools/lib/children.ts";
import { coreDelta, type CoreTicks, coreTicks, cpuTicks } from "../../tools/lib/proc.ts";
import type { RuntimeCommand, RuntimeName } from "../../tools/lib/runtimes.ts";
import {
  type FailedRequest,
  LOST,
  type Outcome,
  type OutcomeCounts,
  RaceClient,
  type RaceClientResult,
} from "./race_client.ts";
import { round, type Spread, spread } from "./stats.ts";

/** One way of shutting down the server, with one kind of client. */
export interface RaceRow {
  /** Short id used in the results (`raw`, `delay-300`, `delay-300-ignores-close`). */
  id: string;
  /** The raw fixture, or the library's demo. */
  server: "raw" | "library";
  /** DRAIN_DELAY_MS given to the demo; null for the raw fixture. */
  /** The demo's DRAIN_DELAY_MS; `null` leaves it unset (the library's default; raw: unused). */
  drainDelayMs: number | null;
  /** Whether the client honors `Connection: close`. */
  compliant: boolean;
}

/** A load level: the mean pause between a response and the next request of one socket. */
export interface RaceLoad {
  id: string;
  thinkMs: number;
}

/** Shared settings of the race scenario. */
export interface RaceSettings {
  children: Children;
  root: string;
  /** bench/servers/raw_shutdown.ts */
  rawFixture: string;
  /** examples/demo.ts */
  demo: string;
  /** Sockets in the client's pool. */
  sockets: number;
  postShare: number;
  bodyBytes: number;
  refusedRetryMs: number;
  requestTimeoutMs: number;
  /** Pause after "listening", before the load starts. */
  settleMs: number;
  /** Load before SIGTERM: at least this long… */
  warmMs: number;
  /** …plus a random extra up to this, so SIGTERM falls at a random phase of the requests. */
  warmJitterMs: number;
  /** The load goes on this long after the exit was seen (requests in flight end meanwhile). */
  afterExitMs: number;
  /** How long a server may take from SIGTERM to exit before it is killed. */
  exitLimitMs: number;
  /** The demo's SHUTDOWN_TIMEOUT_MS. */
  shutdownTimeoutMs: number;
  serverCpu: number;
  random: () => number;
  log: (line: string) => void;
  /** Keep every request's times in the run (`RaceRun.timeline`), for bench/timeline.ts. */
  timeline?: boolean;
}

/** Every request of a run and the client's events, in ms from SIGTERM (2 decimals). */
export interface RaceTimeline {
  /** Complete 2xx responses: [handed to the socket, complete]. */
  ok: [number, number][];
  /** Completion times of the responses that said `Connection: close`. */
  connectionClose: number[];
  /** Refused connects. */
  refused: number[];
}

/**
 * The settings of `npm run bench:race`, also used by the picture of one shutdown
 * (bench/timeline.ts): the fixtures below `root`, 32 sockets, half of the requests POSTs of 64
 * bytes, 400–600 ms of load before SIGTERM, the server on CPU 0. `given` overrides any of them.
 */
export function raceSettings(
  root: string,
  given: Pick<RaceSettings, "children" | "random" | "log"> & Partial<RaceSettings>,
): RaceSettings {
  return {
    root,
    rawFixture: join(root, "bench", "servers", "raw_shutdown.ts"),
    demo: join(root, "examples", "demo.ts"),
    sockets: 32,
    postShare: 0.5,
    bodyBytes: 64,
    refusedRetryMs: 10,
    requestTimeoutMs: 5000,
    settleMs: 100,
    warmMs: 400,
    warmJitterMs: 200,
    afterExitMs: 20,
    exitLimitMs: 15_000,
    shutdownTimeoutMs: 10_000,
    serverCpu: 0,
    ...given,
  };
}

/** The settings as a results file keeps them: no functions, fixture paths relative to the root. */
export function settingsRecord(s: RaceSettings, clientCpu: number): Record<string, unknown> {
  const { children: _c, log: _l, random: _r, timeline: _t, ...kept } = s;
  return {
    ...kept,
    rawFixture: relative(s.root, kept.rawFixture),
    demo: relative(s.root, kept.demo),
    server: `taskset -c ${s.serverCpu}`,
    client: `orchestrator pinned with taskset -a -p -c ${clientCpu}`,
  };
}

/** A failed request, with its times counted from SIGTERM (ms). */
export interface RaceFailure {
  kind: FailedRequest["kind"];
  method: FailedRequest["method"];
  outcome: Outcome;
  code?: string;
  status?: number;
  /** Complete responses the socket carried before. */
  previous: number;
  socket: number;
  bytes: number;
  connectMs: number;
  startMs: number;
  /** Write flushed to the kernel; null when not seen. */
  writtenMs: number | null;
  endMs: number;
  /** Reused sockets: the previous response's completion, and whether it said Connection: close. */
  previousResponseMs?: number;
  previousConnectionClose?: boolean;
}

/** One run: one fresh server, one SIGTERM under load. */
export interface RaceRun {
  load: string;
  thinkMs: number;
  runtime: RuntimeName;
  row: string;
  rep: number;
  pid: number;
  /** Load before SIGTERM (ms). */
  warmMs: number;
  exit: {
    code: number;
    signal: Deno.Signal | null;
    /** Whether it had to be killed after exitLimitMs. */
    killed: boolean;
    /** SIGTERM sent → exit seen (ms). */
    sigtermToExitMs: number;
  };
  /** What the server logged, counted from its own start of the shutdown (ms). */
  server: {
    listenerClosedAfterMs: number | null;
    drainedInMs: number | null;
    stderr: string;
  };
  /** Complete 2xx responses per second over the 400 ms before SIGTERM. */
  rateBeforeSigterm: number;
  /**
   * Clock ticks on the server's CPU during the load before SIGTERM: busy in all, the server's own
   * (utime + stime), and the rest (other processes, and the kernel's loopback work).
   */
  serverCpuTicks: { busy: number; server: number; foreign: number };
  counts: OutcomeCounts;
  /** Requests handed to a socket that got no complete response, by socket kind. */
  lost: { reused: number; fresh: number; total: number };
  /** Responses that were not 2xx or not the expected body. */
  badResponses: number;
  refused: number;
  okAfterSigterm: number;
  connectionCloseResponses: number;
  writesAfterConnectionClose: number;
  closedWhileIdle: number;
  socketsOpened: number;
  /** SIGTERM → first response with Connection: close, last 2xx, first refused connect (ms). */
  firstConnectionCloseMs: number | null;
  lastOkMs: number | null;
  firstRefusedMs: number | null;
  failures: RaceFailure[];
  /** Busy/idle ticks of every CPU from the start of the load to the end of the run. */
  cores: CoreTicks[];
  loadavg: number[];
  /** Only with `RaceSettings.timeline`. */
  timeline?: RaceTimeline;
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function _ms(value: number, from: number): number {
  return round(value - from, 2);
}

function _spawn(s: RaceSettings, runtime: RuntimeCommand, row: RaceRow): Child {
  if (row.server === "raw") {
    return s.children.spawn(runtime.bin, runtime.serverArgs(s.rawFixture), {
      cwd: s.root,
      env: { PORT: "0" },
      cpu: s.serverCpu,
    });
  }
  return s.children.spawn(runtime.bin, runtime.serverArgs(s.demo), {
    cwd: s.root,
    env: {
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      // null: the library's default (the demo passes no drainDelay when the variable is unset).
      ...(row.drainDelayMs === null ? {} : { DRAIN_DELAY_MS: String(row.drainDelayMs) }),
      SHUTDOWN_TIMEOUT_MS: String(s.shutdownTimeoutMs),
    },
    cpu: s.serverCpu,
  });
}

/** `closing the listener after N ms` and `drained in N ms`, from the library's or raw's log. */
function _serverTimes(stderr: string): RaceRun["server"] {
  const closed = stderr.match(/closing the listener after ([\d.]+) ms/);
  const drained = stderr.match(/drained in ([\d.]+) ms/);
  return {
    listenerClosedAfterMs: closed ? Number(closed[1]) : null,
    drainedInMs: drained ? Number(drained[1]) : null,
    stderr: stderr.trim(),
  };
}

function _failure(f: FailedRequest, t0: number): RaceFailure {
  return {
    kind: f.kind,
    method: f.method,
    outcome: f.outcome,
    ...(f.code === undefined ? {} : { code: f.code }),
    ...(f.status === undefined ? {} : { status: f.status }),
    previous: f.previous,
    socket: f.socket,
    bytes: f.bytes,
    connectMs: _ms(f.connectAt, t0),
    startMs: _ms(f.startAt, t0),
    writtenMs: Number.isNaN(f.writtenAt) ? null : _ms(f.writtenAt, t0),
    endMs: _ms(f.endAt, t0),
    ...(f.previousResponseAt === undefined || Number.isNaN(f.previousResponseAt)
      ? {}
      : { previousResponseMs: _ms(f.previousResponseAt, t0) }),
    ...(f.previousConnectionClose === undefined
      ? {}
      : { previousConnectionClose: f.previousConnectionClose }),
  };
}

function _timeline(result: RaceClientResult, t0: number): RaceTimeline {
  return {
    ok: result.okAt.map((end, i) => [_ms(result.okStartAt[i] ?? NaN, t0), _ms(end, t0)]),
    connectionClose: result.connectionCloseAt.map((at) => _ms(at, t0)),
    refused: result.refusedAt.map((at) => _ms(at, t0)),
  };
}

function _sum(counts: Record<Outcome, number>, outcomes: readonly Outcome[]): number {
  return outcomes.reduce((total, o) => total + counts[o], 0);
}

/** Runs one shutdown under load. */
export async function raceRun(
  s: RaceSettings,
  runtime: RuntimeCommand,
  row: RaceRow,
  load: RaceLoad,
  rep: number,
): Promise<RaceRun> {
  const child = _spawn(s, runtime, row);
  let client: RaceClient | undefined;
  try {
    const ready = await child.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, 20_000);
    await _sleep(s.settleMs);
    const before = coreTicks();
    client = new RaceClient({
      port: Number(ready[1]),
      sockets: s.sockets,
      postShare: s.postShare,
      bodyBytes: s.bodyBytes,
      refusedRetryMs: s.refusedRetryMs,
      timeoutMs: s.requestTimeoutMs,
      compliant: row.compliant,
      thinkMs: load.thinkMs,
      random: s.random,
    });
    client.start();
    const serverBefore = cpuTicks(child.pid);
    const warmMs = s.warmMs + Math.round(s.random() * s.warmJitterMs);
    await _sleep(warmMs);
    const serverTicks = cpuTicks(child.pid) - serverBefore;
    const busyTicks = (coreTicks()[s.serverCpu]?.busy ?? NaN) - (before[s.serverCpu]?.busy ?? NaN);
    const t0 = performance.now();
    child.kill("SIGTERM");
    const killed = (await child.exitWithin(s.exitLimitMs)) === undefined;
    if (killed) await s.children.stop(child, { graceMs: 0 });
    const exit = await child.exited;
    await _sleep(s.afterExitMs);
    const result: RaceClientResult = await client.stop();
    client = undefined;
    await child.drained;
    const cores = coreDelta(before, coreTicks());

    const lostReused = _sum(result.counts.reused, LOST);
    const lostFresh = _sum(result.counts.fresh, LOST);
    const first = (values: number[]): number | null =>
      values.length > 0 ? _ms(Math.min(...values), t0) : null;
    const last = (values: number[]): number | null =>
      values.length > 0 ? _ms(Math.max(...values), t0) : null;
    return {
      load: load.id,
      thinkMs: load.thinkMs,
      runtime: runtime.name,
      row: row.id,
      rep,
      pid: child.pid,
      warmMs,
      exit: {
        code: exit.code,
        signal: exit.signal,
        killed,
        sigtermToExitMs: round(exit.at - t0, 2),
      },
      server: _serverTimes(child.stderr),
      rateBeforeSigterm: Math.round(
        result.okAt.filter((at) => at < t0 && at >= t0 - 400).length / 0.4,
      ),
      serverCpuTicks: { busy: busyTicks, server: serverTicks, foreign: busyTicks - serverTicks },
      counts: result.counts,
      lost: { reused: lostReused, fresh: lostFresh, total: lostReused + lostFresh },
      badResponses: result.counts.fresh["bad-response"] + result.counts.reused["bad-response"],
      refused: result.counts.fresh.refused,
      okAfterSigterm: result.okAt.filter((at) => at >= t0).length,
      connectionCloseResponses: result.connectionCloseAt.length,
      writesAfterConnectionClose: result.writesAfterConnectionClose,
      closedWhileIdle: result.closedWhileIdle,
      socketsOpened: result.socketsOpened,
      firstConnectionCloseMs: first(result.connectionCloseAt),
      lastOkMs: last(result.okAt),
      firstRefusedMs: first(result.refusedAt),
      failures: result.failed.map((f) => _failure(f, t0)),
      cores,
      loadavg: loadavg().map((x) => round(x, 2)),
      ...(s.timeline ? { timeline: _timeline(result, t0) } : {}),
    };
  } finally {
    if (client) await client.stop();
    if (!child.exit) await s.children.stop(child, { graceMs: 0 });
  }
}

/** One line per run for the progress log. */
export function describeRun(run: RaceRun): string {
  const t = (value: number | null): string => value === null ? "-" : `${round(value, 1)}`;
  const codes = new Map<string, number>();
  for (const f of run.failures) {
    const key = `${f.kind}:${f.outcome}${f.code ? `(${f.code})` : ""}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  const detail = [...codes].map(([k, n]) => `${k}×${n}`).join(" ");
  return `${run.load} ${run.runtime} ${run.row.padEnd(23)} #${run.rep + 1}: ` +
    `lost reused ${run.lost.reused}, fresh ${run.lost.fresh}, refused ${run.refused}` +
    `${run.badResponses > 0 ? `, BAD ${run.badResponses}` : ""}; ` +
    `exit ${run.exit.code}${run.exit.killed ? " (killed)" : ""} after ${
      t(run.exit.sigtermToExitMs)
    } ms, listener closed +${t(run.server.listenerClosedAfterMs)} ms; ` +
    `${run.rateBeforeSigterm} req/s, ${run.okAfterSigterm} ok after SIGTERM` +
    `${run.writesAfterConnectionClose > 0 ? `, ${run.writesAfterConnectionClose} reuses` : ""}` +
    `${detail ? ` [${detail}]` : ""}`;
}

/** A row's runs, summarised. */
export interface RaceSummary {
  load: string;
  thinkMs: number;
  runtime: RuntimeName;
  row: string;
  runs: number;
  lostReused: Spread;
  lostFresh: Spread;
  lostTotal: Spread;
  refused: Spread;
  badResponses: number;
  /** Runs with at least one lost request. */
  runsWithLoss: number;
  sigtermToExitMs: Spread;
  listenerClosedAfterMs: Spread;
  rateBeforeSigterm: Spread;
  okAfterSigterm: Spread;
  connectionCloseResponses: Spread;
  /** SIGTERM → the first `Connection: close` response the client saw (ms), over runs with one. */
  firstConnectionCloseMs: Spread;
  /** Runs in which the client saw at least one `Connection: close` response. */
  runsWithConnectionClose: number;
  /** Summed over the runs: must be 0 for a compliant client. */
  writesAfterConnectionClose: number;
  closedWhileIdle: Spread;
  /** Lost requests summed over the runs, by socket kind and outcome (code when there is one). */
  lostBy: Record<string, number>;
  /** When the lost requests were handed to their socket, counted from SIGTERM (ms). */
  lostStartMs: Spread;
  /** Lost requests on reused sockets: how long the socket had been idle when the request went. */
  reusedIdleMs: Spread;
  exitCodes: Record<string, number>;
}

/** Summarises the runs of one load × runtime × row. */
export function summariseRace(runs: RaceRun[]): RaceSummary {
  const r0 = runs[0]!;
  const lostBy: Record<string, number> = {};
  const lostStart: number[] = [];
  const reusedIdle: number[] = [];
  const exitCodes: Record<string, number> = {};
  for (const run of runs) {
    const key = run.exit.killed ? "killed" : String(run.exit.code);
    exitCodes[key] = (exitCodes[key] ?? 0) + 1;
    for (const f of run.failures) {
      if (!LOST.includes(f.outcome)) continue;
      const name = `${f.kind} ${f.outcome}${f.code ? ` (${f.code})` : ""}`;
      lostBy[name] = (lostBy[name] ?? 0) + 1;
      lostStart.push(f.startMs);
      if (f.kind === "reused" && f.previousResponseMs !== undefined) {
        reusedIdle.push(round(f.startMs - f.previousResponseMs, 2));
      }
    }
  }
  const of = (pick: (run: RaceRun) => number | null): Spread =>
    spread(runs.map(pick).filter((x): x is number => x !== null));
  return {
    load: r0.load,
    thinkMs: r0.thinkMs,
    runtime: r0.runtime,
    row: r0.row,
    runs: runs.length,
    lostReused: of((r) => r.lost.reused),
    lostFresh: of((r) => r.lost.fresh),
    lostTotal: of((r) => r.lost.total),
    refused: of((r) => r.refused),
    badResponses: runs.reduce((n, r) => n + r.badResponses, 0),
    runsWithLoss: runs.filter((r) => r.lost.total > 0).length,
    sigtermToExitMs: of((r) => r.exit.killed ? null : r.exit.sigtermToExitMs),
    listenerClosedAfterMs: of((r) => r.server.listenerClosedAfterMs),
    rateBeforeSigterm: of((r) => r.rateBeforeSigterm),
    okAfterSigterm: of((r) => r.okAfterSigterm),
    connectionCloseResponses: of((r) => r.connectionCloseResponses),
    firstConnectionCloseMs: of((r) => r.firstConnectionCloseMs),
    runsWithConnectionClose: runs.filter((r) => r.connectionCloseResponses > 0).length,
    writesAfterConnectionClose: runs.reduce((n, r) => n + r.writesAfterConnectionClose, 0),
    closedWhileIdle: of((r) => r.closedWhileIdle),
    lostBy,
    lostStartMs: spread(lostStart),
    reusedIdleMs: spread(reusedIdle),
    exitCodes,
  };
}
