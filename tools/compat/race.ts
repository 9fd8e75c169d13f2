// The keep-alive load across SIGTERM, repeated on one runtime line: the scenario of
// `npm run bench:race` (bench/lib/race_scenario.ts) with the library's defaults, i.e. the demo
// with no DRAIN_DELAY_MS and a client that honors `Connection: close`. A pool of keep-alive
// sockets sends GET and POST requests to a fresh server, the server gets SIGTERM mid-load, and
// every request is classified (bench/README.md, "Keep-alive race").
//
//   deno run --allow-all tools/compat/race.ts --line=deno-2.5.7 [--runs=5] [--out=FILE]
//       [--seed=N] [--drain-delay=MS]
//
// Fails (exit 1) when any run lost a request on a reused keep-alive connection, got a bad
// response, or did not exit 0 by itself. Requests on fresh connections still in the accept queue
// when the listener closes are reset by the kernel: with one instance and no load balancer no
// server can answer them (bench/README.md), so they are counted and reported, not failed.
// --drain-delay=0 (no lame duck) is the check that this can fail: it loses on reused connections.
// tools/compat/run.ts starts it pinned to CPU 1 (`taskset -c 1`), the server runs on CPU 0.
// Prints one line per run on stderr and writes the runs and their summary as JSON to --out.

import { writeFileSync } from "node:fs";
import process from "node:process";
import { Children } from "../lib/children.ts";
import { type RuntimeCommand, type RuntimeName, serverArgs } from "../lib/runtimes.ts";
import {
  describeRun,
  type RaceLoad,
  type RaceRow,
  type RaceRun,
  raceRun,
  raceSettings,
} from "../../bench/lib/race_scenario.ts";
import { prng } from "../../bench/lib/stats.ts";
import { reportedVersion } from "./install.ts";
import { ROOT, type RuntimeLine, runtimeLines } from "./lines.ts";

/** bench:race's busy load: 2 ms between a response and the socket's next request. */
const LOAD: RaceLoad = { id: "busy", thinkMs: 2 };

/** What one line's repeated runs add up to (tools/compat/run.ts reads it). */
export interface RaceReport {
  line: string;
  release: string;
  runs: number;
  /** The demo's DRAIN_DELAY_MS, or null for the library's default. */
  drainDelayMs: number | null;
  /** Requests sent on a reused keep-alive connection that got no complete answer, over every run. */
  lostReused: number;
  /** The same on fresh connections (reset at the listener close, see above). */
  lostFresh: number;
  badResponses: number;
  /** Complete 2xx answers, over every run. */
  ok: number;
  okAfterSigterm: number;
  refused: number;
  /** Runs that did not exit 0 by themselves (killed after the limit, or another code). */
  badExits: number;
  /** SIGTERM to exit, the slowest run (ms). */
  maxExitMs: number;
  seed: number;
  details: RaceRun[];
}

function _option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

/** How raceRun starts a server on `line` (it reads `name` only to label its results). */
function _command(line: RuntimeLine): RuntimeCommand {
  const version = reportedVersion(line) ?? line.version;
  if (line.runtime === "node") {
    return {
      name: "node" as RuntimeName,
      bin: line.binary,
      version,
      serverArgs: (script, flags = []) => [...flags, script],
      bareArgs: (script) => [script],
    };
  }
  const name = line.runtime;
  return {
    name,
    bin: line.binary,
    version,
    serverArgs: (script, flags) => serverArgs(name, script, { flags }),
    bareArgs: (script) => name === "deno" ? ["run", script] : [script],
  };
}

/** Runs the scenario `runs` times on `line`. */
export async function raceLine(
  line: RuntimeLine,
  runs: number,
  seed: number,
  drainDelayMs: number | null,
): Promise<RaceReport> {
  // The library as shipped when drainDelayMs is null: default drain delay, a compliant client.
  const row: RaceRow = {
    id: drainDelayMs === null ? "default" : `delay-${drainDelayMs}`,
    server: "library",
    drainDelayMs,
    compliant: true,
  };
  const children = new Children();
  const release = children.guard("compat race", (20 + runs * 20) * 1000);
  try {
    const runtime = _command(line);
    const settings = raceSettings(ROOT, {
      children,
      random: prng(seed),
      log: (text) => console.error(text),
    });
    const details: RaceRun[] = [];
    for (let rep = 0; rep < runs; rep++) {
      const run = await raceRun(settings, runtime, row, LOAD, rep);
      console.error(`  ${line.name} ${describeRun(run)}`);
      details.push(run);
    }
    const sum = (pick: (run: RaceRun) => number): number =>
      details.reduce((total, run) => total + pick(run), 0);
    return {
      line: line.name,
      release: runtime.version,
      runs,
      drainDelayMs,
      lostReused: sum((r) => r.lost.reused),
      lostFresh: sum((r) => r.lost.fresh),
      badResponses: sum((r) => r.badResponses),
      ok: sum((r) => r.counts.fresh.ok + r.counts.reused.ok),
      okAfterSigterm: sum((r) => r.okAfterSigterm),
      refused: sum((r) => r.refused),
      badExits: details.filter((r) => r.exit.killed || r.exit.code !== 0).length,
      maxExitMs: Math.max(...details.map((r) => r.exit.sigtermToExitMs)),
      seed,
      details,
    };
  } finally {
    await release();
  }
}

async function main(): Promise<number> {
  const name = _option("line");
  const lines = runtimeLines();
  const line = lines.find((l) => l.name === name);
  if (line === undefined) {
    throw new TypeError(
      `compat race: --line must name a line (${lines.map((l) => l.name).join(", ")}), received ${
        JSON.stringify(name)
      }`,
    );
  }
  const runs = Number(_option("runs") ?? "5");
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
    throw new RangeError(`compat race: --runs must be an integer in 1..50, received ${runs}`);
  }
  const seed = Number(_option("seed") ?? Math.floor(Math.random() * 2 ** 31));
  if (!Number.isInteger(seed) || seed < 0) {
    throw new RangeError(`compat race: --seed must be an integer >= 0, received ${seed}`);
  }
  const delay = _option("drain-delay");
  const drainDelayMs = delay === undefined ? null : Number(delay);
  if (drainDelayMs !== null && !(Number.isInteger(drainDelayMs) && drainDelayMs >= 0)) {
    throw new RangeError(
      `compat race: --drain-delay must be an integer of ms >= 0, received ${JSON.stringify(delay)}`,
    );
  }
  const report = await raceLine(line, runs, seed, drainDelayMs);
  const out = _option("out");
  if (out !== undefined) writeFileSync(out, JSON.stringify(report) + "\n");
  console.error(
    `${line.name}: ${report.lostReused} lost on reused connections, ${report.badResponses} bad ` +
      `responses, ${report.badExits} bad exits in ${runs} runs (${report.ok} answered, ` +
      `${report.okAfterSigterm} after SIGTERM; ${report.lostFresh} reset at the listener close; ` +
      `seed ${seed})`,
  );
  return report.lostReused > 0 || report.badResponses > 0 || report.badExits > 0 ? 1 : 0;
}

if (import.meta.main) process.exit(await main());
