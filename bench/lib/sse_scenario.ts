// SSE shutdown scenario: N endless event streams open on the fixture (bench/servers/sse.ts), then
// SIGTERM. Measures what the clients saw (clean end with the final frame, or cut) and when, when
// the process exited, and the server's memory per open stream; raw runtime server vs serve().

import { join } from "node:path";
import type { Child, Exit } from "../../tools/lib/child.ts";
import type { Children } from "../../tools/lib/children.ts";
import { commandName, coreDelta, type CoreTicks, coreTicks } from "../../tools/lib/proc.ts";
import type { RuntimeCommand } from "../../tools/lib/runtimes.ts";
import type { SseClientResult } from "./sse_client.ts";
import { type Distribution, distribution, round, type Spread, spread } from "./stats.ts";

/**
 * Raw runtime server (`shutdown()` / `stop()` on SIGTERM), the same server whose app ends its own
 * streams on SIGTERM (`own`: the runtime's floor for ending N streams), or the library's serve().
 */
export type SseMode = "raw" | "own" | "graceful";

/** Shared settings of the SSE scenario. */
export interface SseSettings {
  children: Children;
  root: string;
  /** bench/servers/sse.ts */
  fixture: string;
  /** bench/lib/sse_client.ts */
  client: string;
  /** The runtime that runs the client processes. */
  clientRuntime: RuntimeCommand;
  /** Client processes per run; the streams are split evenly among them. */
  clients: number;
  /** Connections each client sets up at once. */
  parallel: number;
  /** Streams opened and closed once after start, before the idle memory sample. */
  warmupStreams: number;
  /** Pause once every stream is open, before the memory sample (every stream ticks in it). */
  settleMs: number;
  /** The library's streamGrace (its default): the expected wait before streams are ended. */
  streamGraceMs: number;
  /** How long a raw server may take to exit after SIGTERM before it is killed. */
  rawExitLimitMs: number;
  /** The same for serve() (longer than the library's 10 s default deadline). */
  gracefulExitLimitMs: number;
  /** How long clients may take to see every end after the server exited or was killed. */
  clientLimitMs: number;
  serverCpu: number;
  clientCpu: number;
  /** Where clients write their results. */
  tmp: string;
  log: (line: string) => void;
}

/** Memory of the server process at one moment. */
export interface MemorySample {
  /** VmRSS and RssAnon from /proc/PID/status, in KiB. */
  vmRssKiB: number;
  rssAnonKiB: number;
  /** process.memoryUsage() inside the server, right after a full GC (bytes). */
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** Whether the server could force a full GC before answering. */
  gc: boolean;
}

/** One run: one fresh server, N streams, one SIGTERM. */
export interface SseRun {
  runtime: RuntimeCommand["name"];
  mode: SseMode;
  streams: number;
  rep: number;
  pid: number;
  /** First connection attempted → every stream open (ms). */
  setupMs: number;
  opened: number;
  failedToOpen: number;
  memory: {
    idle: MemorySample;
    loaded: MemorySample;
    /** (loaded VmRSS − idle VmRSS) ÷ opened, in bytes. */
    rssBytesPerStream: number;
    /** (loaded heapUsed − idle heapUsed) ÷ opened, in bytes (after a GC, when there is one). */
    heapBytesPerStream: number;
  };
  exit: {
    /** Whether the server exited by itself within its limit. */
    byItself: boolean;
    limitMs: number;
    code: number;
    signal: Deno.Signal | null;
    /** SIGTERM → exit seen (ms); NaN when it had to be killed. */
    sigtermToExitMs: number;
    /**
     * SIGTERM → the library's drain was over (graceful: its cleanup hook printed the time; on the
     * shared wall clock), NaN for raw.
     */
    sigtermToDrainedMs: number;
  };
  ends: {
    clean: number;
    endedOtherFrame: number;
    cutReset: number;
    cutClosed: number;
    stillOpen: number;
    /** Last frames of streams that ended with another frame (a few). */
    otherFrames: string[];
    errors: Record<string, number>;
  };
  /** SIGTERM → terminating chunk seen, over the streams that got one (ms). */
  endMs: Distribution;
  /** SIGTERM → cut seen, over the cut streams (ms). */
  cutMs: Distribution;
  /** SIGTERM → connection closed after its terminating chunk (ms). */
  closeAfterEndMs: Distribution;
  /** Every CPU's busy/idle/steal ticks from SIGTERM to the last client result. */
  cores: CoreTicks[];
  loadavg: number[];
}

/** Summary of one runtime × stream count, over the repetitions. */
export interface SseSummary {
  runtime: RuntimeCommand["name"];
  streams: number;
  runs: number;
  raw: {
    /** Runs where the raw server exited by itself within its limit. */
    exitedByItself: number;
    limitMs: number;
    clean: number;
    cut: number;
    opened: number;
    rssBytesPerStream: Spread;
    heapBytesPerStream: Spread;
  };
  graceful: {
    exitedByItself: number;
    /** Runs where every opened stream ended cleanly with the final frame. */
    allCleanRuns: number;
    clean: number;
    cut: number;
    opened: number;
    failedToOpen: number;
    /** SIGTERM → the last stream's clean end, per run (ms). */
    lastEndMs: Spread;
    /** The same, beyond streamGrace (ms). */
    lastEndBeyondGraceMs: Spread;
    /** SIGTERM → first clean end, per run (ms). */
    firstEndMs: Spread;
    /** SIGTERM → process exit, per run (ms). */
    exitMs: Spread;
    exitBeyondGraceMs: Spread;
    /** Last clean end seen by a client → drain over, per run (ms). */
    drainedAfterLastEndMs: Spread;
    /** SIGTERM → the drain was over (the cleanup hook ran), per run (ms). */
    drainedMs: Spread;
    /** Drain over → process exit seen, per run (ms). */
    exitAfterDrainedMs: Spread;
    rssBytesPerStream: Spread;
    heapBytesPerStream: Spread;
  };
  /** The app ending its own streams on the raw runtime at SIGTERM (no grace). */
  own: {
    runs: number;
    exitedByItself: number;
    allCleanRuns: number;
    /** SIGTERM → the last stream's clean end, per run (ms). */
    lastEndMs: Spread;
    /** SIGTERM → process exit, per run (ms). */
    exitMs: Spread;
  };
  /** graceful − raw bytes per stream, run pair by run pair (same repetition). */
  extraRssBytesPerStream: Spread;
  extraHeapBytesPerStream: Spread;
  setupMs: Spread;
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function _absolute(): number {
  return performance.timeOrigin + performance.now();
}

/** VmRSS and RssAnon of a process, in KiB (/proc/PID/status). */
export function rssKiB(pid: number): { vmRssKiB: number; rssAnonKiB: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string): number =>
    Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, "m"))?.[1] ?? NaN);
  return { vmRssKiB: field("VmRSS"), rssAnonKiB: field("RssAnon") };
}

/**
 * Spawns `bin args…` through `sh` with the open-files limit raised to the hard limit (`sh` and
 * taskset exec, so the PID is the runtime's own).
 */
function _spawnWithFds(
  s: SseSettings,
  bin: string,
  args: readonly string[],
  env: Record<string, string>,
  cpu: number,
): Child {
  return s.children.spawn("sh", [
    "-c",
    'ulimit -n "$(ulimit -Hn)" && exec "$@"',
    "sh",
    bin,
    ...args,
  ], {
    cwd: s.root,
    env,
    cpu,
  });
}

/** Starts the fixture pinned to the server CPU; resolves with it and its port. */
async function _startServer(
  s: SseSettings,
  runtime: RuntimeCommand,
  mode: SseMode,
): Promise<{ child: Child; port: number }> {
  // Deno exposes gc() only with this V8 flag; Bun has Bun.gc().
  const flags = runtime.name === "deno" ? ["--v8-flags=--expose-gc"] : [];
  const args = runtime.serverArgs(s.fixture, flags);
  const child = _spawnWithFds(s, runtime.bin, args, { MODE: mode, PORT: "0" }, s.serverCpu);
  const match = await child.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, 20_000);
  const name = commandName(child.pid);
  if (name === "sh" || name === "taskset") {
    throw new Error(`pid ${child.pid} is still ${name}, not the server`);
  }
  return { child, port: Number(match[1]) };
}

/** Starts the client processes for `streams` streams, each pinned to the client CPU. */
function _startClients(
  s: SseSettings,
  port: number,
  streams: number,
  processes: number,
  tag: string,
  close: boolean,
): { child: Child; out: string }[] {
  const rt = s.clientRuntime;
  const args = rt.name === "deno"
    ? ["run", "--allow-net", "--allow-env", "--allow-write", s.client]
    : [s.client];
  const started: { child: Child; out: string }[] = [];
  for (let i = 0; i < processes; i++) {
    const count = Math.floor(streams / processes) + (i < streams % processes ? 1 : 0);
    if (count === 0) continue;
    const out = join(s.tmp, `${tag}-client${i}.json`);
    const env: Record<string, string> = {
      PORT: String(port),
      COUNT: String(count),
      OUT: out,
      PARALLEL: String(s.parallel),
    };
    if (close) env.CLOSE = "1";
    started.push({ child: _spawnWithFds(s, rt.bin, args, env, s.clientCpu), out });
  }
  return started;
}

/** Forces a GC in the server (GET /mem), lets it settle, then reads RSS from /proc. */
async function _memory(pid: number, port: number): Promise<MemorySample> {
  const response = await fetch(`http://127.0.0.1:${port}/mem`, {
    headers: { connection: "close" },
  });
  const inside = await response.json() as {
    gc: boolean;
    heapUsed: number;
    heapTotal: number;
    external: number;
  };
  await _sleep(200);
  return {
    ...rssKiB(pid),
    heapUsed: inside.heapUsed,
    heapTotal: inside.heapTotal,
    external: inside.external,
    gc: inside.gc,
  };
}

async function _results(
  clients: { child: Child; out: string }[],
): Promise<SseClientResult[]> {
  const results: SseClientResult[] = [];
  for (const c of clients) {
    try {
      results.push(JSON.parse(await Deno.readTextFile(c.out)) as SseClientResult);
    } catch (error) {
      throw new Error(
        `client pid ${c.child.pid} left no result (${error}); stderr:\n${
          c.child.stderr.slice(-2000)
        }`,
      );
    }
  }
  return results;
}

/** Waits for every client's `ready` line; resolves with the opened and failed counts. */
async function _ready(
  clients: { child: Child }[],
  timeoutMs: number,
): Promise<{ opened: number; failed: number }> {
  const lines = await Promise.all(
    clients.map((c) => c.child.waitFor(/ready (\d+) (\d+)/, timeoutMs)),
  );
  return {
    opened: lines.reduce((sum, m) => sum + Number(m[1]), 0),
    failed: lines.reduce((sum, m) => sum + Number(m[2]), 0),
  };
}

/**
 * One run: a fresh server, a warm-up (streams opened and closed), the idle memory sample, N
 * streams from the client processes, the loaded memory sample, SIGTERM; then the server's exit
 * (bounded: a raw server is expected to hang) and what every client saw.
 */
export async function sseRun(
  s: SseSettings,
  runtime: RuntimeCommand,
  mode: SseMode,
  streams: number,
  rep: number,
): Promise<SseRun> {
  const tag = `${runtime.name}-${mode}-${streams}-${rep}`;
  const { child: server, port } = await _startServer(s, runtime, mode);
  let clients: { child: Child; out: string }[] = [];
  try {
    const warmup = _startClients(s, port, s.warmupStreams, 1, `${tag}-warmup`, true);
    clients = warmup;
    await _ready(warmup, 20_000);
    for (const c of warmup) {
      if (!(await c.child.exitWithin(5_000))) throw new Error(`warm-up client did not exit`);
    }
    await _sleep(300);
    const idle = await _memory(server.pid, port);

    clients = _startClients(s, port, streams, s.clients, tag, false);
    const setupStart = performance.now();
    const { opened, failed } = await _ready(clients, 60_000);
    const setupMs = performance.now() - setupStart;
    await _sleep(s.settleMs);
    const loaded = await _memory(server.pid, port);

    const coresBefore = coreTicks();
    const sentAt = performance.now();
    const sentAbs = _absolute();
    server.kill("SIGTERM");
    const limitMs = mode === "raw" ? s.rawExitLimitMs : s.gracefulExitLimitMs;
    const byItself = (await server.exitWithin(limitMs)) !== undefined;
    if (!byItself) server.kill("SIGKILL");
    const exit: Exit = await server.exited;
    await Promise.race([server.drained, _sleep(1000)]);
    const drainedAt = Number(server.stdout.match(/drained at ([\d.]+)/)?.[1] ?? NaN);
    for (const c of clients) {
      if (!(await c.child.exitWithin(s.clientLimitMs))) {
        // The client writes what it saw, counting the rest as still open.
        c.child.kill("SIGTERM");
        if (!(await c.child.exitWithin(2_000))) c.child.kill("SIGKILL");
      }
    }
    const cores = coreDelta(coresBefore, coreTicks());
    const results = await _results(clients);
    const sum = (pick: (r: SseClientResult) => number): number =>
      results.reduce((total, r) => total + pick(r), 0);
    const relative = (pick: (r: SseClientResult) => number[]): Distribution =>
      distribution(results.flatMap(pick).map((at) => at - sentAbs));
    const errors: Record<string, number> = {};
    for (const r of results) {
      for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
    }
    const bytesPer = (loadedBytes: number, idleBytes: number): number =>
      opened > 0 ? (loadedBytes - idleBytes) / opened : NaN;
    return {
      runtime: runtime.name,
      mode,
      streams,
      rep,
      pid: server.pid,
      setupMs,
      opened,
      failedToOpen: failed,
      memory: {
        idle,
        loaded,
        rssBytesPerStream: bytesPer(loaded.vmRssKiB * 1024, idle.vmRssKiB * 1024),
        heapBytesPerStream: bytesPer(loaded.heapUsed, idle.heapUsed),
      },
      exit: {
        byItself,
        limitMs,
        code: exit.code,
        signal: exit.signal,
        sigtermToExitMs: byItself ? exit.at - sentAt : NaN,
        sigtermToDrainedMs: drainedAt - sentAbs,
      },
      ends: {
        clean: sum((r) => r.clean),
        endedOtherFrame: sum((r) => r.endedOtherFrame),
        cutReset: sum((r) => r.cutReset),
        cutClosed: sum((r) => r.cutClosed),
        stillOpen: sum((r) => r.stillOpen),
        otherFrames: results.flatMap((r) => r.otherFrames).slice(0, 5),
        errors,
      },
      endMs: relative((r) => r.endAt),
      cutMs: relative((r) => r.cutAt),
      closeAfterEndMs: relative((r) => r.closeAfterEndAt),
      cores,
      loadavg: Deno.loadavg(),
    };
  } finally {
    if (!server.exit) await s.children.stop(server, { graceMs: 0 });
    for (const c of clients) if (!c.child.exit) await s.children.stop(c.child, { graceMs: 0 });
  }
}

/** A one-line account of a run, for the progress log. */
export function describeRun(r: SseRun): string {
  const mem = `${round(r.memory.rssBytesPerStream, 0)} B RSS/stream ` +
    `(${round(r.memory.heapBytesPerStream, 0)} B heap)`;
  const exit = r.exit.byItself
    ? `exit ${r.exit.code} after ${round(r.exit.sigtermToExitMs, 1)} ms` +
      (Number.isFinite(r.exit.sigtermToDrainedMs)
        ? ` (drained at ${round(r.exit.sigtermToDrainedMs, 1)} ms)`
        : "")
    : `did not exit within ${r.exit.limitMs / 1000} s (killed)`;
  const ends = `${r.ends.clean} clean, ${r.ends.endedOtherFrame} other frame, ` +
    `${r.ends.cutReset} reset, ${r.ends.cutClosed} closed, ${r.ends.stillOpen} open`;
  const when = r.endMs.n > 0
    ? `; ends ${round(r.endMs.min, 1)}–${round(r.endMs.max, 1)} ms (p50 ${round(r.endMs.p50, 1)})`
    : "";
  return `${r.runtime} ${r.mode.padEnd(8)} ${r.streams} streams (rep ${r.rep + 1}): ` +
    `${r.opened}/${r.streams} open in ${round(r.setupMs, 0)} ms` +
    (r.failedToOpen > 0 ? ` (${r.failedToOpen} failed)` : "") +
    `; ${mem}; ${exit}; ${ends}${when}`;
}

/** Summarises the runs of one runtime × stream count; `graceMs` is the library's streamGrace. */
export function summariseSse(runs: SseRun[], graceMs: number): SseSummary {
  const first = runs[0]!;
  const of = (mode: SseMode): SseRun[] => runs.filter((r) => r.mode === mode);
  const raw = of("raw");
  const own = of("own");
  const graceful = of("graceful");
  const cut = (r: SseRun): number => r.ends.cutReset + r.ends.cutClosed;
  const total = (list: SseRun[], pick: (r: SseRun) => number): number =>
    list.reduce((sum, r) => sum + pick(r), 0);
  const pairs = (pick: (r: SseRun) => number): number[] => {
    const diffs: number[] = [];
    for (const g of graceful) {
      const r = raw.find((x) => x.rep === g.rep);
      if (r) diffs.push(pick(g) - pick(r));
    }
    return diffs;
  };
  const rss = (r: SseRun): number => r.memory.rssBytesPerStream;
  const heap = (r: SseRun): number => r.memory.heapBytesPerStream;
  const lastEnd = (r: SseRun): number => r.endMs.max;
  // Runs that had to be killed, or saw no end, have no time: they are counted, not averaged.
  const times = (list: number[]): Spread => spread(list.filter(Number.isFinite));
  return {
    runtime: first.runtime,
    streams: first.streams,
    runs: Math.max(raw.length, graceful.length),
    raw: {
      exitedByItself: raw.filter((r) => r.exit.byItself).length,
      limitMs: raw[0]?.exit.limitMs ?? NaN,
      clean: total(raw, (r) => r.ends.clean),
      cut: total(raw, cut),
      opened: total(raw, (r) => r.opened),
      rssBytesPerStream: spread(raw.map(rss)),
      heapBytesPerStream: spread(raw.map(heap)),
    },
    graceful: {
      exitedByItself: graceful.filter((r) => r.exit.byItself).length,
      allCleanRuns:
        graceful.filter((r) => r.opened === r.streams && r.ends.clean === r.opened).length,
      clean: total(graceful, (r) => r.ends.clean),
      cut: total(graceful, cut),
      opened: total(graceful, (r) => r.opened),
      failedToOpen: total(graceful, (r) => r.failedToOpen),
      lastEndMs: times(graceful.map(lastEnd)),
      lastEndBeyondGraceMs: times(graceful.map((r) => lastEnd(r) - graceMs)),
      firstEndMs: times(graceful.map((r) => r.endMs.min)),
      exitMs: times(graceful.map((r) => r.exit.sigtermToExitMs)),
      exitBeyondGraceMs: times(graceful.map((r) => r.exit.sigtermToExitMs - graceMs)),
      drainedAfterLastEndMs: times(graceful.map((r) => r.exit.sigtermToDrainedMs - lastEnd(r))),
      drainedMs: times(graceful.map((r) => r.exit.sigtermToDrainedMs)),
      exitAfterDrainedMs: times(
        graceful.map((r) => r.exit.sigtermToExitMs - r.exit.sigtermToDrainedMs),
      ),
      rssBytesPerStream: spread(graceful.map(rss)),
      heapBytesPerStream: spread(graceful.map(heap)),
    },
    own: {
      runs: own.length,
      exitedByItself: own.filter((r) => r.exit.byItself).length,
      allCleanRuns: own.filter((r) => r.opened === r.streams && r.ends.clean === r.opened).length,
      lastEndMs: times(own.map(lastEnd)),
      exitMs: times(own.map((r) => r.exit.sigtermToExitMs)),
    },
    extraRssBytesPerStream: spread(pairs(rss)),
    extraHeapBytesPerStream: spread(pairs(heap)),
    setupMs: spread(runs.map((r) => r.setupMs)),
  };
}
