// The markdown summary (bench/results/latest.md) built from the raw results.

import { LINE_PINNED_GOAL, LINE_PUBLIC_GOAL, type LinesResult } from "./lines.ts";
import type { CaseResult } from "./side_by_side.ts";
import type { ShutdownResult } from "./shutdown.ts";
import type { Distribution, Spread } from "./stats.ts";
import type { ThroughputCase } from "./throughput.ts";
import type { RunHeader } from "./meta.ts";

/** The run's context, shown above the table. */
export interface ReportHeader extends RunHeader {
  seed: number;
  pairs: number;
  shutdownRuns: number;
}

/** Throughput goal: graceful req/s at least this fraction of raw (median of pairwise ratios). */
export const RPS_GOAL = 0.97;
/** Latency goal: graceful p99 at most this multiple of raw p99 (median of pairwise ratios). */
export const P99_GOAL = 1.05;
/** Last byte → exit goal, p99, in milliseconds. */
export const LAST_BYTE_GOAL_MS = 10;

const _RUNTIME_LABEL: Record<string, string> = { deno: "Deno", bun: "Bun" };

function _f(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

function _kilo(value: number): string {
  return Number.isFinite(value) ? `${(value / 1000).toFixed(1)}k` : "n/a";
}

function _range(s: Spread, digits: number): string {
  return `${_f(s.min, digits)}–${_f(s.max, digits)}`;
}

function _dist(d: Distribution, high: "p90" | "p99", digits: number): string {
  return `${_f(d.p50, digits)} / ${_f(d[high], digits)} / ${_f(d.max, digits)} ms`;
}

function _verdict(met: boolean): string {
  return met ? "met" : "**missed**";
}

/** Builds the markdown: a context line, then one table (metric, runtime, anchor, result, goal). */
export function markdown(
  header: ReportHeader,
  throughput: ThroughputCase[],
  shutdown: ShutdownResult[],
): string {
  const v = header.versions;
  const lines: string[] = [
    `Measured ${header.date} with \`${header.command}\` (${header.mode} mode) on library ` +
    `revision ${v.library}: Deno ${v.deno}, Bun ${v.bun}, Hono ${v.hono}, ${v.wrk}; ` +
    `${header.machine.nproc} × ${header.machine.cpu}, Linux ${header.machine.kernel}; seed ${header.seed}.`,
    "",
    "| metric | runtime | anchor | result | goal |",
    "|---|---|---|---|---|",
  ];
  const label = (c: ThroughputCase): string =>
    `${_RUNTIME_LABEL[c.runtime]} ${v[c.runtime]}, ${c.app}`;
  const pairs = (s: ThroughputCase["summary"]): string =>
    `${s.pairs} pairs` + (s.disturbedPairs > 0 ? `, ${s.disturbedPairs} disturbed set aside` : "");
  for (const c of throughput) {
    const s = c.summary;
    lines.push(
      `| req/s, graceful ÷ raw (median of pairwise ratios, min–max) | ${label(c)} | ` +
        `raw ${_kilo(s.rps.raw.median)} req/s (graceful ${_kilo(s.rps.graceful.median)}) | ` +
        `**${_f(s.rpsRatio.median, 3)}** (${_range(s.rpsRatio, 3)}; ${pairs(s)}; ` +
        (s.errors > 0 ? `${s.errors} socket errors or non-2xx; ` : "") +
        `95% CI of the median ${_f(s.rpsRatioInterval.low, 3)}–${
          _f(s.rpsRatioInterval.high, 3)
        }) | ≥ ${RPS_GOAL}: ${_verdict(s.rpsRatio.median >= RPS_GOAL)}${
          s.rpsRatioInterval.low < RPS_GOAL && s.rpsRatioInterval.high >= RPS_GOAL
            ? " (not resolved: the CI spans the goal)"
            : ""
        } |`,
    );
  }
  for (const c of throughput) {
    const s = c.summary;
    lines.push(
      `| p99 latency, graceful ÷ raw (median of pairwise ratios, min–max) | ${label(c)} | ` +
        `raw p99 ${_f(s.p99Ms.raw.median, 2)} ms (graceful ${_f(s.p99Ms.graceful.median, 2)}) | ` +
        `**${_f(s.p99Ratio.median, 3)}** (${_range(s.p99Ratio, 3)}; 95% CI of the median ${
          _f(s.p99RatioInterval.low, 3)
        }–${_f(s.p99RatioInterval.high, 3)}) | ≤ ${P99_GOAL}: ${
          _verdict(s.p99Ratio.median <= P99_GOAL)
        }${
          s.p99RatioInterval.low <= P99_GOAL && s.p99RatioInterval.high > P99_GOAL
            ? " (not resolved: the CI spans the goal)"
            : ""
        } |`,
    );
  }
  for (const c of throughput) {
    const s = c.summary;
    lines.push(
      `| server CPU time per request (utime+stime ÷ requests, median) | ${label(c)} | ` +
        `raw ${_f(s.cpuUsPerRequest.raw.median, 2)} µs | ` +
        `graceful ${_f(s.cpuUsPerRequest.graceful.median, 2)} µs; ratio ${
          _f(s.cpuRatio.median, 3)
        } (${_range(s.cpuRatio, 3)}) | — |`,
    );
  }
  for (const r of shutdown) {
    const i = r.summary.idle;
    lines.push(
      `| idle shutdown: SIGTERM → process exit, demo (p50 / p90 / max, ${i.demo.n} runs) | ` +
        `${_RUNTIME_LABEL[r.runtime]} ${v[r.runtime]} | ` +
        `empty script start → exit ${_dist(i.empty, "p90", 1)}; raw server SIGTERM → exit ${
          _dist(i.raw, "p90", 1)
        } | ${_dist(i.demo, "p90", 1)} | — |`,
    );
  }
  for (const r of shutdown) {
    const l = r.summary.lastByteToExit;
    lines.push(
      `| last response byte → process exit, demo GET /slow (p50 / p99 / max, ${l.demo.n} runs) | ` +
        `${_RUNTIME_LABEL[r.runtime]} ${v[r.runtime]} | raw server ${_dist(l.raw, "p99", 2)} | ` +
        `${_dist(l.demo, "p99", 2)}; of which the library's part (last byte → its last log line) ${
          _dist(r.summary.lastByteToReport, "p99", 2)
        }${
          r.summary.failures > 0 ? ` (${r.summary.failures} failed runs excluded)` : ""
        } | ≤ ${LAST_BYTE_GOAL_MS} ms p99: ${
          _verdict(l.demo.n > 0 && l.demo.p99 <= LAST_BYTE_GOAL_MS)
        } |`,
    );
  }
  lines.push(
    "",
    "Throughput: server pinned to CPU 0 and wrk (`-t1 -c50 -d2s --latency`) to CPU 1; raw and " +
      "graceful runs alternate in randomly ordered pairs" +
      (header.mode === "full"
        ? ", each pair on freshly started and warmed-up servers"
        : ", all pairs of a case on the same two server processes") +
      "; a pair where another process took over 10% of the server's CPU is set aside and " +
      "redone. Shutdown percentiles are nearest-rank: " +
      `with ${header.shutdownRuns} runs, p90 and p99 are the ` +
      `${Math.ceil(0.9 * header.shutdownRuns)}th and ${
        Math.ceil(0.99 * header.shutdownRuns)
      }th smallest ` +
      `of ${header.shutdownRuns}. Method and caveats: bench/README.md.`,
  );
  return lines.join("\n") + "\n";
}

/** A side-by-side ratio: requests served graceful ÷ raw, its range, and the CPU ratio. */
function _sideBySide(r: CaseResult): string {
  const range = r.rounds.length > 1 ? `${_f(r.ratio.min, 3)}–${_f(r.ratio.max, 3)}; ` : "";
  return `**${_f(r.ratio.median, 3)}** (${range}${r.rounds.length} round${
    r.rounds.length === 1 ? "" : "s"
  }; CPU/request ${_f(r.cpuRatio.median, 3)})`;
}

/**
 * The per-line table: each supported line and handler shape, the path on public APIs alone and
 * the fast path side by side, with the goal of each; lines that could not be measured are named.
 */
export function linesMarkdown(result: LinesResult): string {
  const lines: string[] = [
    "",
    "Per release line, side by side (raw and graceful servers at the same time on CPU 0, each " +
    `loaded by its own wrk on CPU 1; ${result.rounds} round${result.rounds === 1 ? "" : "s"} of ` +
    `${result.seconds} s per case after a 1 s warm-up): requests served, graceful ÷ raw ` +
    "(median, min–max, rounds) and CPU per request, graceful ÷ raw (median). `public APIs` is `GRACEFUL_SERVE_INTERNALS=off` on Deno and " +
    "the only path on Bun; `plain` declares no parameters, `args` declares `(request, info)`, " +
    "`hono` is a Hono app.",
    "",
    "| line | handler | public APIs: graceful ÷ raw | fast path: graceful ÷ raw | goal |",
    "|---|---|---|---|---|",
  ];
  for (const line of result.lines) {
    const apps = [...new Set(line.cases.map((c) => c.app))];
    for (const app of apps) {
      const pub = line.cases.find((c) => c.app === app && c.path === "public")?.result;
      const fast = line.cases.find((c) => c.app === app && c.path === "fast")?.result;
      const goals = [];
      if (pub !== undefined) {
        goals.push(
          `public ≥ ${LINE_PUBLIC_GOAL}: ${_verdict(pub.ratio.median >= LINE_PUBLIC_GOAL)}`,
        );
      }
      // The pinned goal holds for the path a pinned release serves by default.
      const served = fast ?? pub;
      if (line.pinned && served !== undefined) {
        goals.push(
          `pinned ≥ ${LINE_PINNED_GOAL}: ${_verdict(served.ratio.median >= LINE_PINNED_GOAL)}`,
        );
      }
      lines.push(
        `| ${_RUNTIME_LABEL[line.runtime]} ${line.version}${line.pinned ? " (pinned)" : ""} | ` +
          `${app} | ${pub === undefined ? "—" : _sideBySide(pub)} | ${
            fast === undefined
              ? line.runtime === "bun" ? "— (no internal path)" : "—"
              : _sideBySide(fast)
          } | ${goals.join("; ")} |`,
      );
    }
  }
  for (const m of result.missing) {
    lines.push(`| ${m.line} | — | **not measured** | **not measured** | ${m.reason} |`);
  }
  return lines.join("\n") + "\n";
}
