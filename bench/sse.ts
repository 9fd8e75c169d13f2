// The SSE shutdown benchmark: N endless Server-Sent Events streams open, then SIGTERM, on Deno
// and Bun, raw runtime server vs serve(). How long until every client saw a clean end (the final
// frame and the terminating chunk), when the process exits, how many streams were cut, and the
// memory each open stream costs.
//
//   npm run bench:sse               full mode (1000 and 10000 streams, 3 runs each; about 3 min)
//   npm run bench:sse -- --quick    quick mode (1000 streams, 2 runs; about 45 s)
//
// Options: --quick; --only=deno|bun (a development aid: prints the table but does not write
// bench/results/); --client=bun|deno (the clients' runtime: Bun.connect, the default, or node:net
// under Deno, which lags behind 10k ending streams). Needs taskset, 2 CPUs and an open-files hard
// limit above the stream count. Writes bench/results/sse.json (every run) and sse.md (the table),
// and prints the table. Method and caveats: bench/README.md.

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Children } from "../tools/lib/children.ts";
import { requireTool } from "../tools/lib/commands.ts";
import { writeAtomically } from "../tools/lib/results.ts";
import { type RuntimeCommand, runtimes } from "../tools/lib/runtimes.ts";
import { cpuModel, libraryRevision } from "./lib/meta.ts";
import {
  EXTRA_BYTES_PER_STREAM_GOAL,
  SIGTERM_TO_EXIT_GOAL_MS,
  sseMarkdown,
  type SseReportHeader,
} from "./lib/sse_report.ts";
import {
  describeRun,
  type SseMode,
  type SseRun,
  sseRun,
  type SseSettings,
  type SseSummary,
  summariseSse,
} from "./lib/sse_scenario.ts";

interface Options {
  quick: boolean;
  only: "deno" | "bun" | undefined;
  client: "deno" | "bun";
}

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
/** The library's default streamGrace, which the fixture keeps. */
const STREAM_GRACE_MS = 250;
const CLIENTS = 4;

function parseArgs(args: readonly string[]): Options {
  const options: Options = { quick: false, only: undefined, client: "bun" };
  for (const arg of args) {
    const [name, value] = arg.split("=", 2) as [string, string | undefined];
    if (name === "--quick" && value === undefined) options.quick = true;
    else if (name === "--only" && (value === "deno" || value === "bun")) options.only = value;
    else if (name === "--client" && (value === "deno" || value === "bun")) options.client = value;
    else {
      throw new TypeError(
        `bench:sse: unknown argument ${
          JSON.stringify(arg)
        }; expected --quick, --only=deno|bun or --client=deno|bun`,
      );
    }
  }
  return options;
}

function log(line: string): void {
  console.error(line);
}

/** The hard open-files limit children can raise themselves to. */
async function hardFileLimit(): Promise<number> {
  const out = await new Deno.Command("sh", { args: ["-c", "ulimit -Hn"] }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  return text === "unlimited" ? Infinity : Number(text);
}

async function main(): Promise<void> {
  const options = parseArgs(Deno.args);
  const started = performance.now();
  const mode = options.quick ? "quick" : "full";
  const streamCounts = options.quick ? [1000] : [1000, 10_000];
  const reps = options.quick ? 2 : 3;
  const nproc = navigator.hardwareConcurrency;
  if (nproc < 2) throw new Error(`bench:sse: needs 2 CPUs to pin server and clients apart`);
  await requireTool("bench:sse", "taskset", { args: ["-V"], aptPackage: "util-linux" });
  const fileLimit = await hardFileLimit();
  const most = Math.max(...streamCounts);
  if (fileLimit < most + 256) {
    throw new Error(
      `bench:sse: the open-files hard limit is ${fileLimit}; ${most} streams need at least ` +
        `${most + 256} (raise it with ulimit -Hn or in limits.conf)`,
    );
  }

  const children = new Children();
  const budgetMs = (options.quick ? 180 : 10 * 60) * 1000;
  const release = children.guard("bench:sse", budgetMs);
  const tmp = await Deno.makeTempDir({ prefix: "bench-sse-" });

  try {
    const rts = await runtimes(ROOT);
    const versions: Record<string, string> = {
      deno: rts.deno.version,
      bun: rts.bun.version,
      client: options.client === "bun"
        ? `bun ${rts.bun.version} (Bun.connect)`
        : `deno ${rts.deno.version} (node:net)`,
      orchestrator: `deno ${Deno.version.deno}`,
      library: await libraryRevision(ROOT),
    };
    log(
      `bench:sse: ${mode} mode; deno ${versions.deno}, bun ${versions.bun}; ` +
        `streams ${streamCounts.join(", ")}; ${reps} runs each; open-files limit ${fileLimit}`,
    );
    const settings: SseSettings = {
      children,
      root: ROOT,
      fixture: join(BENCH, "servers", "sse.ts"),
      client: join(BENCH, "lib", "sse_client.ts"),
      clientRuntime: rts[options.client],
      clients: CLIENTS,
      parallel: 64,
      warmupStreams: 200,
      settleMs: 1500,
      streamGraceMs: STREAM_GRACE_MS,
      rawExitLimitMs: 5000,
      gracefulExitLimitMs: 15_000,
      clientLimitMs: 5000,
      serverCpu: 0,
      clientCpu: 1,
      tmp,
      log,
    };
    const subjects: RuntimeCommand[] = [rts.deno, rts.bun].filter((rt) =>
      options.only === undefined || rt.name === options.only
    );

    // Repetitions outermost, raw and graceful alternating which goes first, so that a slow spell
    // of the machine falls on both modes alike.
    const runs: SseRun[] = [];
    for (let rep = 0; rep < reps; rep++) {
      for (const streams of streamCounts) {
        for (const runtime of subjects) {
          const modes: SseMode[] = ["raw", "graceful", "own"];
          const order = modes.map((_, i) => modes[(i + rep) % modes.length]!);
          for (const m of order) {
            const run = await sseRun(settings, runtime, m, streams, rep);
            runs.push(run);
            log(`  ${describeRun(run)}`);
          }
        }
      }
    }

    const summaries: SseSummary[] = [];
    for (const streams of streamCounts) {
      for (const runtime of subjects) {
        summaries.push(
          summariseSse(
            runs.filter((r) => r.runtime === runtime.name && r.streams === streams),
            STREAM_GRACE_MS,
          ),
        );
      }
    }
    const argText = Deno.args.join(" ");
    const header: SseReportHeader = {
      date: new Date().toISOString(),
      command: `npm run bench:sse${argText ? ` -- ${argText}` : ""}`,
      mode,
      versions,
      machine: { nproc, cpu: cpuModel(), kernel: Deno.osRelease() },
      reps,
      clients: CLIENTS,
      streamGraceMs: STREAM_GRACE_MS,
      rawExitLimitMs: settings.rawExitLimitMs,
    };
    const md = sseMarkdown(header, summaries);
    const elapsedS = (performance.now() - started) / 1000;
    if (options.only === undefined) {
      const { children: _p, log: _l, tmp: _t, clientRuntime: _c, ...kept } = settings;
      const results = {
        ...header,
        elapsedS,
        deno: `deno run --allow-all ${relative(ROOT, fileURLToPath(import.meta.url))} ${argText}`
          .trim(),
        goals: {
          sigtermToExitMedianMaxMs: SIGTERM_TO_EXIT_GOAL_MS,
          extraBytesPerStreamMax: EXTRA_BYTES_PER_STREAM_GOAL,
        },
        settings: {
          ...kept,
          fixture: relative(ROOT, kept.fixture),
          client: relative(ROOT, kept.client),
          streamCounts,
          server: `taskset -c ${settings.serverCpu}`,
          clientsPinned: `taskset -c ${settings.clientCpu}`,
          openFilesHardLimit: fileLimit,
        },
        summaries,
        runs,
      };
      const dir = join(BENCH, "results");
      await Deno.mkdir(dir, { recursive: true });
      await writeAtomically(join(dir, "sse.json"), JSON.stringify(results, null, 2) + "\n");
      await writeAtomically(join(dir, "sse.md"), md);
      log(`bench:sse: wrote bench/results/sse.json and sse.md in ${elapsedS.toFixed(0)} s`);
    } else {
      log(`bench:sse: --only given, bench/results/ left untouched (${elapsedS.toFixed(0)} s)`);
    }
    console.log(md);
  } finally {
    await release();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

await main();
