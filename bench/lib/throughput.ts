// Throughput scenario: raw server vs the same handler behind the library, in alternating pairs.

import type { Child } from "../../tools/lib/child.ts";
import type { Children } from "../../tools/lib/children.ts";
import {
  commandName,
  coreDelta,
  type CoreTicks,
  coreTicks,
  cpuTicks,
} from "../../tools/lib/proc.ts";
import type { RuntimeCommand } from "../../tools/lib/runtimes.ts";
import { runWrk, wrkErrors, type WrkResult } from "../../tools/lib/wrk.ts";
import { medianInterval, prng, round, type Spread, spread } from "./stats.ts";

/** Which handler the fixture serves. */
export type AppName = "plain" | "hono";
/** Raw runtime server, or the library's graceful() wrapper with the server attached. */
export type ServerMode = "raw" | "graceful";

/** Shared settings of the throughput scenario. */
export interface ThroughputSettings {
  children: Children;
  root: string;
  /** bench/servers/hello.ts */
  fixture: string;
  /** Clock ticks per second of /proc times. */
  ticksPerSecond: number;
  /** Undisturbed pairs wanted. */
  pairs: number;
  /** Extra pairs allowed to replace disturbed ones. */
  maxRedo: number;
  /**
   * A run is disturbed when more than this fraction of the server CPU's ticks went to something
   * other than the server (another process on the machine).
   */
  disturbedFraction: number;
  durationS: number;
  warmupS: number;
  /**
   * Start a fresh raw and graceful server (and warm them up) before every pair, instead of once per
   * case: a process's own luck (address layout, JIT decisions) then averages out over the pairs.
   */
  freshServers: boolean;
  connections: number;
  serverCpu: number;
  wrkCpu: number;
  random: () => number;
  log: (line: string) => void;
}

/** One wrk run against one server. */
export interface ThroughputRun {
  mode: ServerMode;
  /** Index of the pair attempt, from 0 (disturbed pairs included). */
  pair: number;
  /** 0 when this run went first in its pair. */
  position: 0 | 1;
  /** The server's PID (a new one for every pair with freshServers). */
  pid: number;
  wrk: WrkResult;
  /** Server utime + stime during the run, in clock ticks. */
  cpuTicks: number;
  /** Server CPU time per request, in microseconds. */
  cpuUsPerRequest: number;
  /** Every CPU's busy/idle/steal ticks during the run (/proc/stat), to spot interference. */
  cores: CoreTicks[];
  /**
   * Busy ticks on the server's CPU not spent by the server: other processes, interrupts, and
   * the loopback network work the kernel does there. Compare runs; a spike means interference.
   */
  foreignTicksOnServerCpu: number;
  /** foreignTicksOnServerCpu above the threshold: the pair is redone and kept out of the summary. */
  disturbed: boolean;
}

/** Summary of one runtime × app case, over the undisturbed pairs. */
export interface ThroughputSummary {
  /** Pairs summarised (undisturbed), and pairs set aside as disturbed. */
  pairs: number;
  disturbedPairs: number;
  rps: Record<ServerMode, Spread>;
  p99Ms: Record<ServerMode, Spread>;
  cpuUsPerRequest: Record<ServerMode, Spread>;
  /** graceful / raw, per pair. */
  rpsRatio: Spread;
  /** 95% bootstrap interval of the median req/s ratio. */
  rpsRatioInterval: { low: number; high: number };
  p99Ratio: Spread;
  /** 95% bootstrap interval of the median p99 ratio. */
  p99RatioInterval: { low: number; high: number };
  cpuRatio: Spread;
  /** Socket errors plus non-2xx responses over every measured run. */
  errors: number;
  /** graceful / raw req/s over every pair, disturbed ones included (for comparison). */
  rpsRatioAllPairs: Spread;
}

/** Everything measured for one runtime × app case. */
export interface ThroughputCase {
  runtime: RuntimeCommand["name"];
  app: AppName;
  /** One warm-up per server start: before the first pair, or before every pair. */
  warmups: ({ pair: number } & Record<ServerMode, WrkResult>)[];
  runs: ThroughputRun[];
  summary: ThroughputSummary;
}

/**
 * Starts the fixture (bench/servers/hello.ts) with `env` under `runtime`, pinned to `cpu`, and
 * waits for it to listen; the PID is checked to be the runtime's, not taskset's.
 */
export async function startFixture(
  children: Children,
  where: { root: string; fixture: string; cpu: number },
  runtime: RuntimeCommand,
  env: Record<string, string>,
): Promise<{ child: Child; url: string }> {
  const child = children.spawn(runtime.bin, runtime.serverArgs(where.fixture), {
    cwd: where.root,
    env: { ...env, PORT: "0" },
    cpu: where.cpu,
  });
  const match = await child.waitFor(/listening on (http:\/\/\S+)/, 20_000);
  const name = commandName(child.pid);
  if (name === "taskset") throw new Error(`pid ${child.pid} is still taskset, not the server`);
  return { child, url: `${match[1]}/` };
}

function _startServer(
  s: ThroughputSettings,
  runtime: RuntimeCommand,
  mode: ServerMode,
  app: AppName,
): Promise<{ child: Child; url: string }> {
  const where = { root: s.root, fixture: s.fixture, cpu: s.serverCpu };
  return startFixture(s.children, where, runtime, { MODE: mode, APP: app });
}

/** Pairwise ratio graceful / raw of `pick` over every pair. */
function _ratios(runs: ThroughputRun[], pick: (run: ThroughputRun) => number): number[] {
  const ratios: number[] = [];
  for (const raw of runs) {
    if (raw.mode !== "raw") continue;
    const other = runs.find((r) => r.mode === "graceful" && r.pair === raw.pair);
    if (other) ratios.push(pick(other) / pick(raw));
  }
  return ratios;
}

/** Pair indexes where either run was disturbed. */
function _disturbedPairs(runs: ThroughputRun[]): Set<number> {
  return new Set(runs.filter((r) => r.disturbed).map((r) => r.pair));
}

/**
 * Summarises the runs of one case: the undisturbed pairs, or every pair when all of them were
 * disturbed (then `pairs` is 0 and the figures are the disturbed ones).
 */
export function summarise(all: ThroughputRun[], seed = 1): ThroughputSummary {
  const disturbed = _disturbedPairs(all);
  const clean = all.filter((r) => !disturbed.has(r.pair));
  const runs = clean.length > 0 ? clean : all;
  const of = (mode: ServerMode, pick: (run: ThroughputRun) => number): Spread =>
    spread(runs.filter((r) => r.mode === mode).map(pick));
  const rps = (r: ThroughputRun): number => r.wrk.rps;
  const p99 = (r: ThroughputRun): number => r.wrk.latencyMs.p99;
  const cpu = (r: ThroughputRun): number => r.cpuUsPerRequest;
  return {
    pairs: new Set(clean.map((r) => r.pair)).size,
    disturbedPairs: disturbed.size,
    rps: { raw: of("raw", rps), graceful: of("graceful", rps) },
    p99Ms: { raw: of("raw", p99), graceful: of("graceful", p99) },
    cpuUsPerRequest: { raw: of("raw", cpu), graceful: of("graceful", cpu) },
    rpsRatio: spread(_ratios(runs, rps)),
    rpsRatioInterval: medianInterval(_ratios(runs, rps), prng(seed)),
    p99Ratio: spread(_ratios(runs, p99)),
    p99RatioInterval: medianInterval(_ratios(runs, p99), prng(seed + 1)),
    cpuRatio: spread(_ratios(runs, cpu)),
    errors: all.reduce((sum, r) => sum + wrkErrors(r.wrk), 0),
    rpsRatioAllPairs: spread(_ratios(all, rps)),
  };
}

/**
 * Starts the raw and the graceful server of one case (both pinned to `serverCpu`), warms each up,
 * then runs pairs of wrk runs, each pair in a random order, until `pairs` undisturbed pairs were
 * measured or `maxRedo` disturbed pairs were redone. With `freshServers`, both servers are
 * restarted and warmed up again before every pair.
 */
export async function throughputCase(
  s: ThroughputSettings,
  runtime: RuntimeCommand,
  app: AppName,
): Promise<ThroughputCase> {
  const servers: Partial<Record<ServerMode, { child: Child; url: string }>> = {};
  const wrk = (url: string, durationS: number): Promise<WrkResult> =>
    runWrk(s.children, url, {
      durationS,
      connections: s.connections,
      cpu: s.wrkCpu,
      cwd: s.root,
    });
  const stopAll = async (): Promise<void> => {
    for (const mode of ["raw", "graceful"] as const) {
      const server = servers[mode];
      servers[mode] = undefined;
      if (server) await s.children.stop(server.child);
    }
  };
  const warmups: ThroughputCase["warmups"] = [];
  const start = async (pair: number): Promise<void> => {
    await stopAll();
    servers.raw = await _startServer(s, runtime, "raw", app);
    servers.graceful = await _startServer(s, runtime, "graceful", app);
    warmups.push({
      pair,
      raw: await wrk(servers.raw.url, s.warmupS),
      graceful: await wrk(servers.graceful.url, s.warmupS),
    });
  };
  try {
    const runs: ThroughputRun[] = [];
    const threshold = s.disturbedFraction * s.durationS * s.ticksPerSecond;
    let clean = 0;
    for (let pair = 0; clean < s.pairs && pair < s.pairs + s.maxRedo; pair++) {
      if (pair === 0 || s.freshServers) await start(pair);
      let pairDisturbed = false;
      const order: ServerMode[] = s.random() < 0.5 ? ["raw", "graceful"] : ["graceful", "raw"];
      for (const [position, mode] of order.entries()) {
        const server = servers[mode]!;
        const coresBefore = coreTicks();
        const before = cpuTicks(server.child.pid);
        const result = await wrk(server.url, s.durationS);
        const ticks = cpuTicks(server.child.pid) - before;
        const cores = coreDelta(coresBefore, coreTicks());
        const foreign = (cores[s.serverCpu]?.busy ?? 0) - ticks;
        const run: ThroughputRun = {
          mode,
          pair,
          position: position as 0 | 1,
          pid: server.child.pid,
          wrk: result,
          cpuTicks: ticks,
          cpuUsPerRequest: (ticks / s.ticksPerSecond) * 1e6 / Math.max(1, result.requests),
          cores,
          foreignTicksOnServerCpu: foreign,
          disturbed: foreign > threshold,
        };
        pairDisturbed ||= run.disturbed;
        runs.push(run);
        s.log(
          `  ${runtime.name}-${app} pair ${pair + 1} (${clean}/${s.pairs} clean before it) ` +
            `${mode.padEnd(8)} ` +
            `${Math.round(result.rps)} req/s, p99 ${round(result.latencyMs.p99, 2)} ms, ` +
            `${round(run.cpuUsPerRequest, 2)} µs CPU/req, ` +
            `foreign ticks on CPU ${s.serverCpu}: ${run.foreignTicksOnServerCpu}` +
            (wrkErrors(result) > 0 ? `, ${wrkErrors(result)} errors` : "") +
            (run.disturbed ? " [disturbed: pair set aside]" : ""),
        );
      }
      if (!pairDisturbed) clean++;
    }
    const summary = summarise(runs, Math.floor(s.random() * 2 ** 31));
    return { runtime: runtime.name, app, warmups, runs, summary };
  } finally {
    await stopAll();
  }
}
