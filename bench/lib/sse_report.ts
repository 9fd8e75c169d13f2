// The markdown summary of the SSE shutdown benchmark (bench/results/sse.md).

import type { SseSummary } from "./sse_scenario.ts";
import type { RunHeader } from "./meta.ts";
import type { Spread } from "./stats.ts";

/** The run's context, shown above the table. */
export interface SseReportHeader extends RunHeader {
  /** Runs per runtime × stream count × mode. */
  reps: number;
  clients: number;
  streamGraceMs: number;
  rawExitLimitMs: number;
}

/**
 * Goal: SIGTERM → every stream ended cleanly and the process exited within this long, the
 * stream grace included (median of the runs; set for 10k streams, the 1k rows use it too).
 */
export const SIGTERM_TO_EXIT_GOAL_MS = 1000;
/** Goal: what the library adds per open SSE stream, in bytes. */
export const EXTRA_BYTES_PER_STREAM_GOAL = 2048;

const _RUNTIME_LABEL: Record<string, string> = { deno: "Deno", bun: "Bun" };
const _RAW_CLOSE: Record<string, string> = { deno: "`server.shutdown()`", bun: "`server.stop()`" };

/** Says so when the runs fall on both sides of a goal (an upper bound). */
function _span(s: Spread, goal: number): string {
  return s.n > 1 && s.min <= goal && s.max > goal
    ? ` (not resolved: the runs span the goal, max ${_f(s.max, 0)} ms)`
    : "";
}

function _f(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

function _bytes(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return Math.abs(value) >= 1024 ? `${(value / 1024).toFixed(2)} KiB` : `${value.toFixed(0)} B`;
}

function _verdict(met: boolean): string {
  return met ? "met" : "**missed**";
}

/** `median (min–max)` of a spread, or the single value when there is one run. */
function _spread(s: Spread, show: (value: number) => string): string {
  if (s.n === 0) return "n/a";
  if (s.n === 1) return show(s.median);
  return `${show(s.median)} (${show(s.min)}–${show(s.max)})`;
}

/** Signed milliseconds: `+12`, `−3`. */
function _signed(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  const ms = Math.round(value);
  return ms < 0 ? `−${-ms}` : `+${ms}`;
}

/** `+m ms (+min to +max)` of a spread of signed milliseconds. */
function _signedSpread(s: Spread): string {
  if (s.n === 0) return "n/a";
  const range = s.n > 1 ? ` (${_signed(s.min)} to ${_signed(s.max)})` : "";
  return `${_signed(s.median)} ms${range}`;
}

/** A time after SIGTERM as `streamGrace + beyond ms`, with the runs' range of `beyond`. */
function _afterGrace(s: Spread, graceMs: number): string {
  if (s.n === 0) return "n/a";
  const beyond = (value: number): number => value - graceMs;
  const range = s.n > 1 ? ` (${_signed(beyond(s.min))} to ${_signed(beyond(s.max))})` : "";
  return `${_f(graceMs, 0)} ${_signed(beyond(s.median)).replace(/^([+−])/, "$1 ")} ms${range}`;
}

/** The anchor of the app ending its own streams on the raw runtime (no grace). */
function _own(s: SseSummary, metric: "lastEndMs" | "exitMs"): string {
  const o = s.own;
  if (o.runs === 0) return "";
  const what = metric === "lastEndMs" ? "last clean end" : "exit";
  const unclean = o.allCleanRuns < o.runs
    ? `; not all clean in ${o.runs - o.allCleanRuns} runs`
    : "";
  return `The app ending its own streams at SIGTERM on the raw runtime: ${what} at ` +
    `${_spread(o[metric], (ms) => `${_f(ms, 0)} ms`)}${unclean}`;
}

/** Builds the markdown: a context line, then one table (metric, runtime, anchor, result, goal). */
export function sseMarkdown(header: SseReportHeader, summaries: SseSummary[]): string {
  const v = header.versions;
  const grace = header.streamGraceMs;
  const runs = header.reps === 1 ? "1 run" : `median (min–max) of ${header.reps} runs`;
  const lines: string[] = [
    `Measured ${header.date} with \`${header.command}\` (${header.mode} mode) on library ` +
    `revision ${v.library}: Deno ${v.deno}, Bun ${v.bun}; clients: ${header.clients} ${v.client} ` +
    `processes; ${header.machine.nproc} × ${header.machine.cpu}, ` +
    `Linux ${header.machine.kernel}.`,
    "",
    "| metric | runtime | anchor | result | goal |",
    "|---|---|---|---|---|",
  ];
  const label = (s: SseSummary): string => `${_RUNTIME_LABEL[s.runtime]} ${v[s.runtime]}`;
  const rawHang = (s: SseSummary): string =>
    `raw ${_RAW_CLOSE[s.runtime]}: ` +
    (s.raw.exitedByItself === 0
      ? `did not exit within ${_f(s.raw.limitMs / 1000, 0)} s in ${s.runs}/${s.runs} runs (SIGKILL)`
      : `exited by itself in ${s.raw.exitedByItself}/${s.runs} runs`);
  for (const s of summaries) {
    const g = s.graceful;
    const met = g.allCleanRuns === s.runs && g.lastEndMs.n === s.runs &&
      g.lastEndMs.median <= SIGTERM_TO_EXIT_GOAL_MS;
    lines.push(
      `| SSE: SIGTERM → last of ${s.streams} streams ended cleanly (${runs}) | ${label(s)} | ` +
        `${rawHang(s)}; ${s.raw.clean} of ${s.raw.opened} streams ended cleanly. ` +
        `${_own(s, "lastEndMs")} | ` +
        `**${_afterGrace(g.lastEndMs, grace)}**; first end ${_afterGrace(g.firstEndMs, grace)} | ` +
        `all clean in every run, ≤ ${SIGTERM_TO_EXIT_GOAL_MS} ms after SIGTERM: ${_verdict(met)}${
          _span(g.lastEndMs, SIGTERM_TO_EXIT_GOAL_MS)
        } |`,
    );
  }
  for (const s of summaries) {
    const g = s.graceful;
    lines.push(
      `| SSE: SIGTERM → process exit, ${s.streams} streams (${runs}) | ${label(s)} | ` +
        `${rawHang(s)}. ${_own(s, "exitMs")} | ${_afterGrace(g.exitMs, grace)}` +
        (g.exitedByItself < s.runs
          ? `; did not exit by itself in ${s.runs - g.exitedByItself}/${s.runs} runs`
          : "") +
        `; drain over (cleanup hook) at ${_afterGrace(g.drainedMs, grace)}; ` +
        `last end seen → drain over ${_signedSpread(g.drainedAfterLastEndMs)}, ` +
        `drain over → exit ${_signedSpread(g.exitAfterDrainedMs)} | ` +
        `≤ ${SIGTERM_TO_EXIT_GOAL_MS} ms after SIGTERM: ${
          _verdict(
            g.exitedByItself === s.runs && g.exitMs.median <= SIGTERM_TO_EXIT_GOAL_MS,
          )
        }${_span(g.exitMs, SIGTERM_TO_EXIT_GOAL_MS)} |`,
    );
  }
  for (const s of summaries) {
    const g = s.graceful;
    lines.push(
      `| SSE: streams ended cleanly with the final frame / cut, ${s.streams} streams ` +
        `(sum of ${s.runs} run${s.runs === 1 ? "" : "s"}) | ${label(s)} | ` +
        `raw ${s.raw.clean} / ${s.raw.cut} (cut when killed) | ` +
        `${g.clean} / ${g.cut}` +
        (g.opened < s.streams * s.runs ? `; ${g.opened} of ${s.streams * s.runs} opened` : "") +
        ` | all clean: ${_verdict(g.clean === s.streams * s.runs && g.cut === 0)} |`,
    );
  }
  for (const s of summaries) {
    const extra = s.extraRssBytesPerStream;
    lines.push(
      `| SSE: memory per open stream, (RSS with ${s.streams} open − idle RSS) ÷ ${s.streams} ` +
        `(${runs}) | ${label(s)} | raw ${_spread(s.raw.rssBytesPerStream, _bytes)} ` +
        `(JS heap ${_spread(s.raw.heapBytesPerStream, _bytes)}) | ` +
        `graceful ${_spread(s.graceful.rssBytesPerStream, _bytes)}; ` +
        `**extra ${_spread(extra, _bytes)}** (JS heap extra ${
          _spread(s.extraHeapBytesPerStream, _bytes)
        }) | extra ≤ ${_bytes(EXTRA_BYTES_PER_STREAM_GOAL)}: ${
          _verdict(extra.n > 0 && extra.median <= EXTRA_BYTES_PER_STREAM_GOAL)
        }${
          extra.min <= EXTRA_BYTES_PER_STREAM_GOAL && extra.max > EXTRA_BYTES_PER_STREAM_GOAL
            ? " (not resolved: the runs span the goal)"
            : ""
        } |`,
    );
  }
  lines.push(
    "",
    `The fixture (\`bench/servers/sse.ts\`) serves an endless stream that ignores the shutdown ` +
      `(\`: ok\` at once, then \`data: tick\` every second), and in the "own" anchor ends ` +
      `every stream itself at SIGTERM (\`retry: 1000\`, then the end) before the runtime's ` +
      `own shutdown; graceful is \`serve()\` with its ` +
      `defaults (streamGrace ${grace} ms, final frame \`retry: 1000\`). Server pinned to CPU 0, ` +
      `clients to CPU 1; each run starts a fresh server. End times are what the clients saw, ` +
      `on the wall clock shared with the orchestrator that sent SIGTERM; a clean end is the ` +
      `terminating chunk after \`retry: 1000\`. Memory: VmRSS from /proc after a forced GC, ` +
      `with N streams open vs idle after a warm-up; extra = graceful − raw, run pair by run ` +
      `pair. Method and caveats: bench/README.md.`,
  );
  return lines.join("\n") + "\n";
}
