// Per-request cost, measured side by side: the raw server and the graceful one run at the same
// time on the same CPU, each loaded by its own wrk on the other CPU. The kernel shares CPU 0
// between the two servers, so whatever else slows the machine slows both alike, and the ratio of
// the requests they served in the same seconds is the inverse ratio of their CPU cost per
// request. One round: fresh processes, a warm-up, then `--seconds` of load.
//
//   npm run bench:corun                 9 rounds of 3 s per case (about 6 minutes)
//   npm run bench:corun -- --rounds=5   fewer rounds (3..31)
//   npm run bench:corun -- --out=DIR    results into DIR instead of bench/results/ (test:compat)
//
// Cases: each runtime and app, graceful against raw; a raw-against-raw control per runtime (what
// the method reads when both sides are the same code); and on Bun, graceful with
// `sseFinalFrame: false` against raw, and raw against raw plus the library's check for SSE
// responses alone (`response.headers.get("content-type")?.startsWith(...)`), which together split
// the library's cost there into Bun's price of that check and the rest.
// Writes bench/results/corun.json and corun.md. Method: bench/README.md ("Side by side").

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Children } from "../tools/lib/children.ts";
import { requireTool, versionLine } from "../tools/lib/commands.ts";
import { cpuTicks } from "../tools/lib/proc.ts";
import { writeAtomically } from "../tools/lib/results.ts";
import { type RuntimeCommand, runtimes } from "../tools/lib/runtimes.ts";
import { runWrk, wrkErrors } from "../tools/lib/wrk.ts";
import { cpuModel, libraryRevision } from "./lib/meta.ts";
import { startFixture } from "./lib/throughput.ts";
import { max, median, medianInterval, min, prng, round } from "./lib/stats.ts";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const FIXTURE = join(BENCH, "servers", "hello.ts");
const SERVER_CPU = 0;
const WRK_CPU = 1;
const WARMUP_S = 1;

/** One side of a case: the fixture's environment. */
interface Side {
  label: string;
  env: Record<string, string>;
}

interface Case {
  name: string;
  runtime: RuntimeCommand;
  /** The anchor (ratio 1.00). */
  a: Side;
  /** The side whose cost is compared with the anchor's. */
  b: Side;
}

interface Round {
  requests: { a: number; b: number };
  cpuTicks: { a: number; b: number };
  /** b's requests ÷ a's, served in the same seconds. */
  ratio: number;
  /** b's CPU per request ÷ a's. */
  cpuRatio: number;
  errors: number;
}

interface CaseResult {
  name: string;
  runtime: string;
  a: string;
  b: string;
  rounds: Round[];
  ratio: { median: number; min: number; max: number; low: number; high: number };
  cpuRatio: { median: number; min: number; max: number };
}

function parseArgs(
  args: readonly string[],
): { rounds: number; seconds: number; only: string | undefined; out: string | undefined } {
  const options = {
    rounds: 9,
    seconds: 3,
    only: undefined as string | undefined,
    out: undefined as string | undefined,
  };
  for (const arg of args) {
    const [name, value] = arg.split("=", 2) as [string, string | undefined];
    const n = Number(value);
    if (name === "--rounds" && Number.isInteger(n) && n >= 3 && n <= 31) options.rounds = n;
    else if (name === "--seconds" && Number.isInteger(n) && n >= 1 && n <= 10) options.seconds = n;
    else if (name === "--only" && value) options.only = value;
    else if (name === "--out" && value) options.out = value;
    else {
      throw new TypeError(
        `bench:corun: unknown or invalid argument ${
          JSON.stringify(arg)
        }; expected --rounds=N (3..31), --seconds=N (1..10), --only=TEXT (cases whose name has it) or --out=DIR`,
      );
    }
  }
  return options;
}

async function oneRound(children: Children, c: Case, seconds: number): Promise<Round> {
  const where = { root: ROOT, fixture: FIXTURE, cpu: SERVER_CPU };
  const a = await startFixture(children, where, c.runtime, c.a.env);
  const b = await startFixture(children, where, c.runtime, c.b.env);
  try {
    const load = (url: string, durationS: number) =>
      runWrk(children, url, { durationS, cpu: WRK_CPU, cwd: ROOT });
    await Promise.all([load(a.url, WARMUP_S), load(b.url, WARMUP_S)]);
    const before = { a: cpuTicks(a.child.pid), b: cpuTicks(b.child.pid) };
    const [wa, wb] = await Promise.all([load(a.url, seconds), load(b.url, seconds)]);
    const ticks = { a: cpuTicks(a.child.pid) - before.a, b: cpuTicks(b.child.pid) - before.b };
    return {
      requests: { a: wa.requests, b: wb.requests },
      cpuTicks: ticks,
      ratio: wb.requests / wa.requests,
      cpuRatio: (ticks.b / wb.requests) / (ticks.a / wa.requests),
      errors: wrkErrors(wa) + wrkErrors(wb),
    };
  } finally {
    await Promise.all([children.stop(a.child), children.stop(b.child)]);
  }
}

function summarize(c: Case, rounds: Round[], random: () => number): CaseResult {
  const ratios = rounds.map((r) => r.ratio);
  const cpu = rounds.map((r) => r.cpuRatio);
  const interval = medianInterval(ratios, random);
  return {
    name: c.name,
    runtime: `${c.runtime.name} ${c.runtime.version}`,
    a: c.a.label,
    b: c.b.label,
    rounds,
    ratio: {
      median: round(median(ratios)),
      min: round(min(ratios)),
      max: round(max(ratios)),
      low: round(interval.low),
      high: round(interval.high),
    },
    cpuRatio: { median: round(median(cpu)), min: round(min(cpu)), max: round(max(cpu)) },
  };
}

function markdown(header: string, results: CaseResult[]): string {
  const lines = [
    header,
    "",
    "| case | runtime | anchor (1.00) | compared | requests served, compared ÷ anchor (median, min–max, 95% CI of the median) | CPU per request, compared ÷ anchor (median, min–max) |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.name} | ${r.runtime} | ${r.a} | ${r.b} | **${r.ratio.median.toFixed(3)}** (${
        r.ratio.min.toFixed(3)
      }–${r.ratio.max.toFixed(3)}; ${r.rounds.length} rounds; CI ${r.ratio.low.toFixed(3)}–${
        r.ratio.high.toFixed(3)
      }) | ${r.cpuRatio.median.toFixed(3)} (${r.cpuRatio.min.toFixed(3)}–${
        r.cpuRatio.max.toFixed(3)
      }) |`,
    );
  }
  lines.push(
    "",
    "Both servers run at the same time, pinned to CPU 0; each is loaded by its own " +
      "`wrk -t1 -c50` pinned to CPU 1. Every round starts fresh processes and warms both up " +
      `for ${WARMUP_S} s. Method: bench/README.md ("Side by side").`,
    "",
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const options = parseArgs(Deno.args);
  const nproc = navigator.hardwareConcurrency;
  if (nproc < 2) throw new Error(`bench:corun: needs 2 CPUs, found ${nproc}`);
  await requireTool("bench:corun", "wrk", { args: ["--version"] });
  await requireTool("bench:corun", "taskset", { args: ["--version"], aptPackage: "util-linux" });
  const children = new Children();
  const release = children.guard("bench:corun", 15 * 60 * 1000);
  try {
    const rts = await runtimes(ROOT);
    const side = (label: string, env: Record<string, string>): Side => ({ label, env });
    const cases: Case[] = [];
    for (const runtime of [rts.deno, rts.bun]) {
      const raw = side("raw", { MODE: "raw", APP: "plain" });
      cases.push({ name: `${runtime.name}-plain control`, runtime, a: raw, b: raw });
    }
    for (const app of ["plain", "hono"]) {
      for (const runtime of [rts.deno, rts.bun]) {
        cases.push({
          name: `${runtime.name}-${app}`,
          runtime,
          a: side(`raw ${app}`, { MODE: "raw", APP: app }),
          b: side(`graceful ${app}`, { MODE: "graceful", APP: app }),
        });
      }
    }
    for (const app of ["plain", "hono"]) {
      cases.push({
        name: `bun-${app} sseFinalFrame false`,
        runtime: rts.bun,
        a: side(`raw ${app}`, { MODE: "raw", APP: app }),
        b: side(`graceful ${app}, sseFinalFrame false`, { MODE: "graceful", APP: app, SSE: "off" }),
      });
      cases.push({
        name: `bun-${app} SSE check`,
        runtime: rts.bun,
        a: side(`raw ${app}`, { MODE: "raw", APP: app }),
        b: side(`raw ${app} + SSE check`, { MODE: "raw", APP: app, PROBE: "headers" }),
      });
    }
    // The path on public APIs alone (Deno's internal slots switched off), each handler shape.
    for (const app of ["plain", "args", "hono"]) {
      cases.push({
        name: `deno-${app} public API`,
        runtime: rts.deno,
        a: side(`raw ${app}`, { MODE: "raw", APP: app }),
        b: side(`graceful ${app}, internals off`, {
          MODE: "graceful",
          APP: app,
          GRACEFUL_SERVE_INTERNALS: "off",
        }),
      });
    }
    const random = prng(1);
    const results: CaseResult[] = [];
    for (
      const c of cases.filter((c) => options.only === undefined || c.name.includes(options.only))
    ) {
      const rounds: Round[] = [];
      for (let i = 0; i < options.rounds; i++) {
        const r = await oneRound(children, c, options.seconds);
        console.error(
          `  ${c.name} round ${
            i + 1
          }: ${c.b.label} ${r.requests.b} / ${c.a.label} ${r.requests.a}` +
            ` = ${r.ratio.toFixed(3)}; CPU/request ${r.cpuRatio.toFixed(3)}; errors ${r.errors}`,
        );
        rounds.push(r);
      }
      const summary = summarize(c, rounds, random);
      console.error(
        `${c.name}: ${summary.ratio.median} (${summary.ratio.low}–${summary.ratio.high})`,
      );
      results.push(summary);
    }
    const revision = await libraryRevision(ROOT);
    const argText = Deno.args.join(" ");
    const command = `npm run bench:corun${argText ? ` -- ${argText}` : ""}`;
    const wrk = await versionLine("wrk", ["-v"]);
    const header = `Measured ${new Date().toISOString()} with \`${command}\` on library revision ` +
      `${revision}: Deno ${rts.deno.version}, Bun ${rts.bun.version}, ${wrk}; ` +
      `${nproc} × ${cpuModel()}, Linux ${Deno.osRelease()}; ${options.rounds} rounds of ` +
      `${options.seconds} s.`;
    const md = markdown(header, results);
    const dir = options.out ?? join(BENCH, "results");
    await Deno.mkdir(dir, { recursive: true });
    await writeAtomically(
      join(dir, "corun.json"),
      JSON.stringify({ command, revision, options, loadavg: Deno.loadavg(), results }, null, 2) +
        "\n",
    );
    await writeAtomically(join(dir, "corun.md"), md);
    console.log(md);
  } finally {
    await release();
  }
}

if (import.meta.main) await main();
