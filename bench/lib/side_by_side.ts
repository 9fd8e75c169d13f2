// The side-by-side measurement (bench/README.md, "Side by side"): two servers run at the same time
// on the same CPU, each loaded by its own wrk on the other CPU, so whatever else slows the machine
// slows both alike; the ratio of the requests they served in the same seconds is the inverse
// ratio of their CPU cost per request. bench:corun and the per-line figures of `npm run bench`
// both measure this way.

import type { Children } from "../../tools/lib/children.ts";
import { cpuTicks } from "../../tools/lib/proc.ts";
import type { RuntimeCommand } from "../../tools/lib/runtimes.ts";
import { runWrk, wrkErrors } from "../../tools/lib/wrk.ts";
import { max, median, medianInterval, min, round } from "./stats.ts";
import { startFixture } from "./throughput.ts";

/** One side of a case: the fixture's environment. */
export interface Side {
  label: string;
  env: Record<string, string>;
}

/** Two servers measured together. */
export interface SideBySideCase {
  name: string;
  runtime: RuntimeCommand;
  /** The anchor (ratio 1.00). */
  a: Side;
  /** The side whose cost is compared with the anchor's. */
  b: Side;
}

/** Where and how long a round runs. */
export interface SideBySideSettings {
  children: Children;
  root: string;
  /** bench/servers/hello.ts */
  fixture: string;
  serverCpu: number;
  wrkCpu: number;
  warmupS: number;
  seconds: number;
}

/** One round: fresh processes, a warm-up, then `seconds` of load on both at once. */
export interface Round {
  requests: { a: number; b: number };
  cpuTicks: { a: number; b: number };
  /** b's requests ÷ a's, served in the same seconds. */
  ratio: number;
  /** b's CPU per request ÷ a's. */
  cpuRatio: number;
  errors: number;
}

/** The rounds of one case and their summary. */
export interface CaseResult {
  name: string;
  runtime: string;
  a: string;
  b: string;
  rounds: Round[];
  ratio: { median: number; min: number; max: number; low: number; high: number };
  cpuRatio: { median: number; min: number; max: number };
}

/** Runs one round of `c`. */
export async function sideBySideRound(s: SideBySideSettings, c: SideBySideCase): Promise<Round> {
  const where = { root: s.root, fixture: s.fixture, cpu: s.serverCpu };
  const a = await startFixture(s.children, where, c.runtime, c.a.env);
  const b = await startFixture(s.children, where, c.runtime, c.b.env);
  try {
    const load = (url: string, durationS: number) =>
      runWrk(s.children, url, { durationS, cpu: s.wrkCpu, cwd: s.root });
    await Promise.all([load(a.url, s.warmupS), load(b.url, s.warmupS)]);
    const before = { a: cpuTicks(a.child.pid), b: cpuTicks(b.child.pid) };
    const [wa, wb] = await Promise.all([load(a.url, s.seconds), load(b.url, s.seconds)]);
    const ticks = { a: cpuTicks(a.child.pid) - before.a, b: cpuTicks(b.child.pid) - before.b };
    return {
      requests: { a: wa.requests, b: wb.requests },
      cpuTicks: ticks,
      ratio: wb.requests / wa.requests,
      cpuRatio: (ticks.b / wb.requests) / (ticks.a / wa.requests),
      errors: wrkErrors(wa) + wrkErrors(wb),
    };
  } finally {
    await Promise.all([s.children.stop(a.child), s.children.stop(b.child)]);
  }
}

/** The median ratio of `rounds` with its range and the 95% bootstrap interval of the median. */
export function summarizeRounds(
  c: SideBySideCase,
  rounds: Round[],
  random: () => number,
): CaseResult {
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

/** Runs every round of `c`, logging each, and summarises them. */
export async function sideBySideCase(
  s: SideBySideSettings,
  c: SideBySideCase,
  rounds: number,
  random: () => number,
  log: (line: string) => void,
): Promise<CaseResult> {
  const done: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await sideBySideRound(s, c);
    log(
      `  ${c.name} round ${i + 1}: ${c.b.label} ${r.requests.b} / ${c.a.label} ${r.requests.a}` +
        ` = ${r.ratio.toFixed(3)}; CPU/request ${r.cpuRatio.toFixed(3)}; errors ${r.errors}`,
    );
    done.push(r);
  }
  const summary = summarizeRounds(c, done, random);
  log(`${c.name}: ${summary.ratio.median} (${summary.ratio.low}–${summary.ratio.high})`);
  return summary;
}
