// The keep-alive race benchmark, with no load balancer: a pool of keep-alive sockets sends
// requests to one server, the server gets SIGTERM mid-load, and every request is classified (see
// bench/lib/race_client.ts). Rows: the runtime's own shutdown (raw fixture), the library with
// drainDelay 0, 100, 300 and 1000 ms, and drainDelay 300 with a client that ignores
// `Connection: close`; on Deno and Bun; at two load levels. It answers: how many requests does a
// shutdown lose, on which sockets, and what does each drainDelay cost in time to exit?
//
//   deno run --allow-all bench/keepalive_race.ts            full mode (10 per row; about 4 min)
//   deno run --allow-all bench/keepalive_race.ts --quick    quick mode (3 per row; about 75 s)
//
// Options: --quick; --seed=N (replays the method mix, pauses and SIGTERM moments of a run; the
// seed is in the JSON); --only=deno|bun (a development aid: prints the table but does not write
// bench/results/). Needs taskset and 2 CPUs. Writes bench/results/keepalive_race.json (every run,
// every failed request) and keepalive_race.md (the tables), and prints the tables.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Children } from "../tools/lib/children.ts";
import { requireTool } from "../tools/lib/commands.ts";
import { pinSelf } from "../tools/lib/proc.ts";
import { writeAtomically } from "../tools/lib/results.ts";
import { type RuntimeCommand, runtimes } from "../tools/lib/runtimes.ts";
import { cpuModel, libraryRevision } from "./lib/meta.ts";
import { raceMarkdown, type RaceReportHeader } from "./lib/race_report.ts";
import {
  describeRun,
  type RaceFailure,
  type RaceLoad,
  type RaceRow,
  type RaceRun,
  raceRun,
  type RaceSettings,
  raceSettings,
  type RaceSummary,
  settingsRecord,
  summariseRace,
} from "./lib/race_scenario.ts";
import { prng } from "./lib/stats.ts";

interface Options {
  quick: boolean;
  only: "deno" | "bun" | undefined;
  seed: number;
  sockets: number;
}

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const SERVER_CPU = 0;
const CLIENT_CPU = 1;

const ROWS: RaceRow[] = [
  { id: "raw", server: "raw", drainDelayMs: null, compliant: true },
  { id: "default", server: "library", drainDelayMs: null, compliant: true },
  { id: "delay-0", server: "library", drainDelayMs: 0, compliant: true },
  { id: "delay-100", server: "library", drainDelayMs: 100, compliant: true },
  { id: "delay-300", server: "library", drainDelayMs: 300, compliant: true },
  { id: "delay-1000", server: "library", drainDelayMs: 1000, compliant: true },
  { id: "delay-300-ignores-close", server: "library", drainDelayMs: 300, compliant: false },
];

const FAILURE_COLUMNS: (keyof RaceFailure)[] = [
  "kind",
  "method",
  "outcome",
  "code",
  "status",
  "previous",
  "socket",
  "bytes",
  "connectMs",
  "startMs",
  "writtenMs",
  "endMs",
  "previousResponseMs",
  "previousConnectionClose",
];

const LOADS: RaceLoad[] = [
  { id: "busy", thinkMs: 2 },
  { id: "light", thinkMs: 20 },
];

function parseArgs(args: readonly string[]): Options {
  const options: Options = {
    quick: false,
    only: undefined,
    seed: Math.floor(Math.random() * 2 ** 31),
    sockets: 32,
  };
  for (const arg of args) {
    const [name, value] = arg.split("=", 2) as [string, string | undefined];
    if (name === "--quick" && value === undefined) options.quick = true;
    else if (name === "--only" && (value === "deno" || value === "bun")) options.only = value;
    else if (name === "--sockets" && value !== undefined && /^\d+$/.test(value)) {
      options.sockets = Math.min(1000, Math.max(1, Number(value)));
    } else if (name === "--seed" && value !== undefined && /^\d+$/.test(value)) {
      options.seed = Number(value);
    } else {
      throw new TypeError(
        `keepalive_race: unknown argument ${
          JSON.stringify(arg)
        }; expected --quick, --only=deno|bun, --sockets=N or --seed=N`,
      );
    }
  }
  return options;
}

function log(line: string): void {
  console.error(line);
}

async function main(): Promise<void> {
  const options = parseArgs(Deno.args);
  const started = performance.now();
  const mode = options.quick ? "quick" : "full";
  const reps = options.quick ? 3 : 10;
  const nproc = navigator.hardwareConcurrency;
  if (nproc < 2) throw new Error("keepalive_race: needs 2 CPUs to pin server and client apart");
  await requireTool("keepalive_race", "taskset", { args: ["-V"], aptPackage: "util-linux" });
  await pinSelf("keepalive_race", CLIENT_CPU);

  const children = new Children();
  const budgetMs = (options.quick ? 4 : 15) * 60 * 1000;
  const release = children.guard("keepalive_race", budgetMs);

  try {
    const rts = await runtimes(ROOT);
    const versions: Record<string, string> = {
      deno: rts.deno.version,
      bun: rts.bun.version,
      client: `node:net under deno ${Deno.version.deno} (the orchestrator)`,
      library: await libraryRevision(ROOT),
    };
    const settings: RaceSettings = raceSettings(ROOT, {
      children,
      sockets: options.sockets,
      serverCpu: SERVER_CPU,
      random: prng(options.seed),
      log,
    });
    const subjects: RuntimeCommand[] = [rts.deno, rts.bun].filter((rt) =>
      options.only === undefined || rt.name === options.only
    );
    log(
      `keepalive_race: ${mode} mode, seed ${options.seed}; deno ${versions.deno}, bun ` +
        `${versions.bun}; ${settings.sockets} sockets; ${reps} shutdowns per row; ` +
        `${LOADS.length} loads × ${subjects.length} runtimes × ${ROWS.length} rows`,
    );

    // Repetitions outermost and the row order rotated from one repetition to the next, so that a
    // slow spell of the machine falls on every row alike.
    const runs: RaceRun[] = [];
    for (let rep = 0; rep < reps; rep++) {
      for (const load of LOADS) {
        for (const runtime of subjects) {
          const shift = rep % ROWS.length;
          const order = [...ROWS.slice(shift), ...ROWS.slice(0, shift)];
          for (const row of order) {
            const run = await raceRun(settings, runtime, row, load, rep);
            runs.push(run);
            log(`  ${describeRun(run)}`);
          }
        }
      }
    }

    const summaries: RaceSummary[] = [];
    for (const load of LOADS) {
      for (const runtime of subjects) {
        for (const row of ROWS) {
          const mine = runs.filter((r) =>
            r.load === load.id && r.runtime === runtime.name && r.row === row.id
          );
          if (mine.length > 0) summaries.push(summariseRace(mine));
        }
      }
    }
    const argText = Deno.args.join(" ");
    const header: RaceReportHeader = {
      date: new Date().toISOString(),
      command: `deno run --allow-all bench/keepalive_race.ts${argText ? ` ${argText}` : ""}`,
      mode,
      versions,
      machine: { nproc, cpu: cpuModel(), kernel: Deno.osRelease() },
      reps,
      sockets: settings.sockets,
      postShare: settings.postShare,
      bodyBytes: settings.bodyBytes,
      refusedRetryMs: settings.refusedRetryMs,
      loads: LOADS,
      rows: ROWS,
      seed: options.seed,
    };
    const md = raceMarkdown(header, summaries);
    const elapsedS = (performance.now() - started) / 1000;
    if (options.only === undefined) {
      const results = {
        ...header,
        elapsedS,
        settings: settingsRecord(settings, CLIENT_CPU),
        summaries,
        // One array per failed request, in the order of failureColumns, to keep the file small.
        failureColumns: FAILURE_COLUMNS,
        runs: runs.map((run) => ({
          ...run,
          failures: run.failures.map((f) => FAILURE_COLUMNS.map((c) => f[c] ?? null)),
        })),
      };
      const dir = join(BENCH, "results");
      await Deno.mkdir(dir, { recursive: true });
      await writeAtomically(join(dir, "keepalive_race.json"), JSON.stringify(results) + "\n");
      await writeAtomically(join(dir, "keepalive_race.md"), md);
      log(
        `keepalive_race: wrote bench/results/keepalive_race.json and keepalive_race.md in ` +
          `${elapsedS.toFixed(0)} s`,
      );
    } else {
      log(`keepalive_race: --only given, bench/results/ left untouched (${elapsedS.toFixed(0)} s)`);
    }
    console.log(md);
  } finally {
    await release();
  }
}

await main();
