// One shutdown under keep-alive load, drawn: the runtime's own shutdown (bench/servers/
// raw_shutdown.ts: Deno.serve + server.shutdown(), or Bun.serve + stop(), on SIGTERM) beside the
// library (examples/demo.ts: serve() with its default drainDelay), each under the same load and
// the same request mix (the keep-alive race client, bench/lib/race_client.ts). Writes every
// request's times to bench/results/timeline.json and draws docs/timeline.svg from it.
//
//   npm run bench:timeline                          both shutdowns on Deno (about 10 s)
//   npm run bench:timeline -- --runtime=bun         the same on Bun
//   npm run bench:timeline -- --render              redraw docs/timeline.svg from the JSON only
//
// Options: --runtime=deno|bun; --seed=N (replays the request mix and the SIGTERM moment);
// --render. Needs taskset and 2 CPUs. One shutdown per lane: for the spread over many shutdowns,
// `npm run bench:race` (bench/results/keepalive_race.md).

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Children } from "../tools/lib/children.ts";
import { requireTool } from "../tools/lib/commands.ts";
import { pinSelf } from "../tools/lib/proc.ts";
import { formatResults, writeAtomically } from "../tools/lib/results.ts";
import { type RuntimeName, runtimes } from "../tools/lib/runtimes.ts";
import { cpuModel, libraryRevision } from "./lib/meta.ts";
import {
  describeRun,
  type RaceLoad,
  type RaceRow,
  type RaceRun,
  raceRun,
  type RaceSettings,
  raceSettings,
  settingsRecord,
} from "./lib/race_scenario.ts";
import { prng } from "./lib/stats.ts";
import { type TimelinePicture, timelineSvg } from "./lib/timeline_svg.ts";

interface Options {
  runtime: RuntimeName;
  seed: number;
  render: boolean;
}

/** bench/results/timeline.json */
interface TimelineResults {
  date: string;
  command: string;
  versions: Record<string, string>;
  machine: { nproc: number; cpu: string; kernel: string };
  seed: number;
  runtime: RuntimeName;
  load: RaceLoad;
  sockets: number;
  elapsedS: number;
  settings: Record<string, unknown>;
  lanes: { title: string; row: RaceRow; run: RaceRun }[];
}

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const JSON_PATH = join(BENCH, "results", "timeline.json");
const SVG_PATH = join(ROOT, "docs", "timeline.svg");
const SERVER_CPU = 0;
const CLIENT_CPU = 1;
const LOAD: RaceLoad = { id: "busy", thinkMs: 2 };
const ROWS: RaceRow[] = [
  { id: "raw", server: "raw", drainDelayMs: null, compliant: true },
  { id: "default", server: "library", drainDelayMs: null, compliant: true },
];
const RAW_SHUTDOWN: Record<RuntimeName, string> = {
  deno: "Deno.serve + server.shutdown() on SIGTERM",
  bun: "Bun.serve + server.stop() on SIGTERM",
};

function parseArgs(args: readonly string[]): Options {
  const options: Options = {
    runtime: "deno",
    seed: Math.floor(Math.random() * 2 ** 31),
    render: false,
  };
  for (const arg of args) {
    const [name, value] = arg.split("=", 2) as [string, string | undefined];
    if (name === "--render" && value === undefined) options.render = true;
    else if (name === "--runtime" && (value === "deno" || value === "bun")) options.runtime = value;
    else if (name === "--seed" && value !== undefined && /^\d+$/.test(value)) {
      options.seed = Number(value);
    } else {
      throw new TypeError(
        `timeline: unknown argument ${
          JSON.stringify(arg)
        }; expected --runtime=deno|bun, --seed=N or --render`,
      );
    }
  }
  return options;
}

function log(line: string): void {
  console.error(line);
}

function label(runtime: RuntimeName, version: string): string {
  return `${runtime === "deno" ? "Deno" : "Bun"} ${version}`;
}

function picture(results: TimelineResults): TimelinePicture {
  const rate = results.lanes.map((l) => l.run.rateBeforeSigterm);
  const k = (n: number): string => `${(n / 1000).toFixed(1)}k`;
  return {
    title: `One shutdown under keep-alive load, ${
      label(results.runtime, results.versions[results.runtime] ?? "")
    }`,
    subtitle: `${results.sockets} keep-alive sockets (${
      rate.map(k).join(" / ")
    } req/s before SIGTERM), no load balancer. ${
      results.date.slice(0, 10)
    }, ${results.command}, seed ${results.seed}.`,
    sockets: results.sockets,
    lanes: results.lanes.map(({ title, run }) => ({ title, run })),
  };
}

async function render(results: TimelineResults): Promise<void> {
  await writeAtomically(SVG_PATH, timelineSvg(picture(results)));
  // As `deno fmt --check` (npm run check) wants the file.
  await formatResults(ROOT, [SVG_PATH]);
  log(`timeline: wrote ${relative(ROOT, SVG_PATH)}`);
}

async function measure(options: Options): Promise<TimelineResults> {
  const started = performance.now();
  if (navigator.hardwareConcurrency < 2) {
    throw new Error("timeline: needs 2 CPUs to pin server and client apart");
  }
  await requireTool("timeline", "taskset", { args: ["-V"], aptPackage: "util-linux" });
  await pinSelf("timeline", CLIENT_CPU);
  const children = new Children();
  const release = children.guard("timeline", 60_000);
  try {
    const rts = await runtimes(ROOT);
    const runtime = rts[options.runtime];
    const settings = (): RaceSettings =>
      // The same seed for each lane: the same request mix, pauses and SIGTERM moment.
      raceSettings(ROOT, {
        children,
        serverCpu: SERVER_CPU,
        random: prng(options.seed),
        log,
        timeline: true,
      });
    const lanes: TimelineResults["lanes"] = [];
    for (const row of ROWS) {
      const run = await raceRun(settings(), runtime, row, LOAD, 0);
      log(`  ${describeRun(run)}`);
      const name = label(runtime.name, runtime.version);
      lanes.push({
        title: row.server === "raw"
          ? `${name}, the runtime's own: ${RAW_SHUTDOWN[runtime.name]}`
          : `${name}, this library: serve() with its defaults (adaptive lame duck)`,
        row,
        run,
      });
    }
    const argText = Deno.args.join(" ");
    return {
      date: new Date().toISOString(),
      command: `npm run bench:timeline${argText ? ` -- ${argText}` : ""}`,
      versions: {
        [runtime.name]: runtime.version,
        client: `node:net under deno ${Deno.version.deno} (the orchestrator)`,
        library: await libraryRevision(ROOT),
      },
      machine: {
        nproc: navigator.hardwareConcurrency,
        cpu: cpuModel(),
        kernel: Deno.osRelease(),
      },
      seed: options.seed,
      runtime: runtime.name,
      load: LOAD,
      sockets: settings().sockets,
      elapsedS: (performance.now() - started) / 1000,
      settings: settingsRecord(settings(), CLIENT_CPU),
      lanes,
    };
  } finally {
    await release();
  }
}

async function main(): Promise<void> {
  const options = parseArgs(Deno.args);
  if (options.render) {
    await render(JSON.parse(await Deno.readTextFile(JSON_PATH)) as TimelineResults);
    return;
  }
  const results = await measure(options);
  await Deno.mkdir(dirname(JSON_PATH), { recursive: true });
  await writeAtomically(JSON_PATH, JSON.stringify(results) + "\n");
  log(`timeline: wrote ${relative(ROOT, JSON_PATH)} in ${results.elapsedS.toFixed(1)} s`);
  await render(results);
}

await main();
