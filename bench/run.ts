// The benchmark: throughput overhead of the library and shutdown latency, on Deno and Bun.
//
//   npm run bench                 full mode (11 pairs, 20 shutdown runs, 5 rounds of 3 s per line
//                                 and case; about 20 minutes)
//   npm run bench -- --quick      quick mode (3 pairs, 5 shutdown runs, 1 round of 2 s per line
//                                 and case; about 3 minutes)
//
// Options: --quick, --seed=N (replay the pair orders), --pairs=N (throughput pairs per case, 3..61:
// more pairs narrow the interval of the median), --only=throughput|shutdown|lines (a development
// aid: prints the table but does not write bench/results/). Needs wrk, taskset and 2 CPUs.
// Per release line: every supported Deno and Bun line (tools/compat/lines.ts; missing cached ones
// are installed, or named in the table), the path on public APIs alone beside the fast path,
// each against the raw runtime side by side (bench/lib/lines.ts).
// Writes bench/results/latest.json (every raw number) and latest.md (the table), and prints the
// table. Method and caveats: bench/README.md.

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  LAST_BYTE_GOAL_MS,
  linesMarkdown,
  markdown,
  P99_GOAL,
  type ReportHeader,
  RPS_GOAL,
} from "./lib/report.ts";
import { Children } from "../tools/lib/children.ts";
import { requireTool, versionLine } from "../tools/lib/commands.ts";
import { clockTicksPerSecond } from "../tools/lib/proc.ts";
import { writeAtomically } from "../tools/lib/results.ts";
import { type RuntimeCommand, runtimes } from "../tools/lib/runtimes.ts";
import { lineFigures, type LinesResult } from "./lib/lines.ts";
import { cpuModel, libraryRevision } from "./lib/meta.ts";
import { type ShutdownResult, shutdownScenarios } from "./lib/shutdown.ts";
import { prng } from "./lib/stats.ts";
import { type AppName, type ThroughputCase, throughputCase } from "./lib/throughput.ts";

interface Options {
  quick: boolean;
  seed: number;
  only: "throughput" | "shutdown" | "lines" | undefined;
  /** Throughput pairs per case (default 11, quick 3). */
  pairs: number | undefined;
}

/** A run is disturbed when over 10% of the server CPU's ticks went to another process. */
const DISTURBED_FRACTION = 0.1;
/** Side-by-side rounds per line and case in full mode (quick mode: one). */
const LINE_ROUNDS = 5;
const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);

function parseArgs(args: readonly string[]): Options {
  const options: Options = {
    quick: false,
    seed: Math.floor(Math.random() * 2 ** 31),
    only: undefined,
    pairs: undefined,
  };
  for (const arg of args) {
    const [name, value] = arg.split("=", 2) as [string, string | undefined];
    if (name === "--quick" && value === undefined) options.quick = true;
    else if (name === "--seed" && value !== undefined && /^\d+$/.test(value)) {
      options.seed = Number(value);
    } else if (
      name === "--only" && (value === "throughput" || value === "shutdown" || value === "lines")
    ) {
      options.only = value;
    } else if (name === "--pairs" && value !== undefined && /^\d+$/.test(value)) {
      const n = Number(value);
      if (n < 3 || n > 61) {
        throw new RangeError(`bench: --pairs must be an integer in 3..61, received ${value}`);
      }
      options.pairs = n;
    } else {
      throw new TypeError(
        `bench: unknown argument ${
          JSON.stringify(arg)
        }; expected --quick, --seed=N, --pairs=N or --only=throughput|shutdown|lines`,
      );
    }
  }
  return options;
}

function log(line: string): void {
  console.error(line);
}

async function honoVersion(): Promise<string> {
  try {
    const text = await Deno.readTextFile(join(ROOT, "node_modules", "hono", "package.json"));
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  const options = parseArgs(Deno.args);
  const started = performance.now();
  const mode = options.quick ? "quick" : "full";
  const pairs = options.pairs ?? (options.quick ? 3 : 11);
  const shutdownRuns = options.quick ? 5 : 20;
  const nproc = navigator.hardwareConcurrency;
  if (nproc < 2) throw new Error(`bench: needs 2 CPUs to pin server and wrk apart, found ${nproc}`);
  await requireTool("bench", "wrk", { args: ["-v"] });
  await requireTool("bench", "taskset", { args: ["-V"], aptPackage: "util-linux" });

  const children = new Children();
  // Bounded no matter what: a wedged child cannot hold the run forever.
  // (a full pair takes about 9 s: two fresh servers, two warm-ups, two 2 s runs).
  // (the per-line figures: about 5 s per case and round in quick mode, 6 s in full mode).
  const budgetMs = ((options.quick ? 420 : 35 * 60) + Math.max(0, pairs - 11) * 4 * 12) * 1000;
  const release = children.guard("bench", budgetMs);

  try {
    const rts = await runtimes(ROOT);
    const versions: Record<string, string> = {
      deno: rts.deno.version,
      bun: rts.bun.version,
      hono: await honoVersion(),
      wrk: await versionLine("wrk", ["-v"]),
      orchestrator: `deno ${Deno.version.deno}`,
      library: await libraryRevision(ROOT),
    };
    const random = prng(options.seed);
    log(
      `bench: ${mode} mode, seed ${options.seed}; deno ${versions.deno}, bun ${versions.bun}, ` +
        `${versions.wrk}`,
    );

    const throughput: ThroughputCase[] = [];
    if (options.only === undefined || options.only === "throughput") {
      const settings = {
        children,
        root: ROOT,
        fixture: join(BENCH, "servers", "hello.ts"),
        ticksPerSecond: await clockTicksPerSecond(),
        pairs,
        maxRedo: options.quick ? 1 : 2,
        disturbedFraction: DISTURBED_FRACTION,
        durationS: 2,
        warmupS: 1,
        freshServers: !options.quick,
        connections: 50,
        serverCpu: 0,
        wrkCpu: 1,
        random,
        log,
      };
      const cases: [RuntimeCommand, AppName][] = [
        [rts.deno, "plain"],
        [rts.bun, "plain"],
        [rts.deno, "hono"],
        [rts.bun, "hono"],
      ];
      for (const [runtime, app] of cases) {
        log(`throughput: ${runtime.name}-${app}`);
        throughput.push(await throughputCase(settings, runtime, app));
      }
    }

    const shutdown: ShutdownResult[] = [];
    if (options.only === undefined || options.only === "shutdown") {
      const settings = {
        children,
        root: ROOT,
        demo: join(ROOT, "examples", "demo.ts"),
        fixture: join(BENCH, "servers", "hello.ts"),
        empty: join(BENCH, "servers", "empty.ts"),
        runs: shutdownRuns,
        settleMs: 50,
        slowMs: 300,
        signalAfterMs: 100,
        log,
      };
      for (const runtime of [rts.deno, rts.bun]) {
        log(`shutdown: ${runtime.name}`);
        shutdown.push(await shutdownScenarios(settings, runtime));
      }
    }

    let lines: LinesResult | undefined;
    if (options.only === undefined || options.only === "lines") {
      const settings = {
        children,
        root: ROOT,
        fixture: join(BENCH, "servers", "hello.ts"),
        serverCpu: 0,
        wrkCpu: 1,
        warmupS: 1,
        seconds: options.quick ? 2 : 3,
      };
      lines = await lineFigures(
        settings,
        options.quick ? 1 : LINE_ROUNDS,
        options.quick,
        random,
        log,
      );
    }

    const argText = Deno.args.join(" ");
    const header: ReportHeader = {
      date: new Date().toISOString(),
      command: `npm run bench${argText ? ` -- ${argText}` : ""}`,
      mode,
      seed: options.seed,
      versions,
      machine: { nproc, cpu: cpuModel(), kernel: Deno.osRelease() },
      pairs,
      shutdownRuns,
    };
    const md = markdown(header, throughput, shutdown) +
      (lines === undefined ? "" : linesMarkdown(lines));
    const elapsedS = (performance.now() - started) / 1000;
    if (options.only === undefined) {
      const results = {
        ...header,
        elapsedS,
        deno: `deno run --allow-all ${relative(ROOT, fileURLToPath(import.meta.url))} ${argText}`
          .trim(),
        goals: {
          rpsRatioMin: RPS_GOAL,
          p99RatioMax: P99_GOAL,
          lastByteToExitP99MaxMs: LAST_BYTE_GOAL_MS,
        },
        settings: {
          wrk: "taskset -c 1 wrk -t1 -c50 -d2s --latency",
          server: "taskset -c 0",
          warmupS: 1,
          disturbedFraction: DISTURBED_FRACTION,
          maxRedoPairs: options.quick ? 1 : 2,
          freshServersEachPair: !options.quick,
          shutdown: { settleMs: 50, slowMs: 300, signalAfterMs: 100 },
        },
        loadavg: Deno.loadavg(),
        throughput,
        shutdown,
        lines,
      };
      const dir = join(BENCH, "results");
      await Deno.mkdir(dir, { recursive: true });
      await writeAtomically(join(dir, "latest.json"), JSON.stringify(results, null, 2) + "\n");
      await writeAtomically(join(dir, "latest.md"), md);
      log(`bench: wrote bench/results/latest.json and latest.md in ${elapsedS.toFixed(0)} s`);
    } else {
      log(`bench: --only given, bench/results/ left untouched (${elapsedS.toFixed(0)} s)`);
    }
    console.log(md);
  } finally {
    await release();
  }
}

await main();
