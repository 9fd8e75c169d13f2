// The markdown summary of the keep-alive race benchmark (bench/results/keepalive_race.md).

import type { RaceLoad, RaceRow, RaceSummary } from "./race_scenario.ts";
import type { RunHeader } from "./meta.ts";
import type { Spread } from "./stats.ts";

/** The run's context, shown above the tables. */
export interface RaceReportHeader extends RunHeader {
  reps: number;
  sockets: number;
  postShare: number;
  bodyBytes: number;
  refusedRetryMs: number;
  loads: RaceLoad[];
  rows: RaceRow[];
  seed: number;
}

const _RUNTIME_LABEL: Record<string, string> = { deno: "Deno", bun: "Bun" };
const _RAW_CLOSE: Record<string, string> = { deno: "`server.shutdown()`", bun: "`server.stop()`" };

/** How a row is named in the tables. */
export function rowLabel(row: RaceRow, runtime: string): string {
  if (row.server === "raw") return `raw ${_RAW_CLOSE[runtime] ?? "shutdown"}`;
  const delay = row.drainDelayMs === null
    ? "library, default drainDelay (adaptive, ≤ 300 ms)"
    : `library, drainDelay ${row.drainDelayMs}`;
  return row.compliant ? delay : `${delay}, client ignores \`Connection: close\``;
}

function _n(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "n/a";
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.max(digits, 1));
}

/** `median (max)` of counts. */
function _medMax(s: Spread): string {
  return s.n === 0 ? "n/a" : `${_n(s.median)} (${_n(s.max)})`;
}

/** `median (min–max)`. */
function _range(s: Spread, digits = 0): string {
  if (s.n === 0) return "n/a";
  const f = (v: number): string => digits > 0 ? v.toFixed(digits) : _n(Math.round(v));
  return s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function _summary(
  summaries: RaceSummary[],
  load: string,
  runtime: string,
  row: string,
): RaceSummary | undefined {
  return summaries.find((s) => s.load === load && s.runtime === runtime && s.row === row);
}

/** Builds the markdown: a context line, then per load the loss table and the detail tables. */
export function raceMarkdown(header: RaceReportHeader, summaries: RaceSummary[]): string {
  const v = header.versions;
  const runtimes = ["deno", "bun"].filter((rt) => summaries.some((s) => s.runtime === rt));
  const lines: string[] = [
    `Measured ${header.date} with \`${header.command}\` (${header.mode} mode, seed ` +
    `${header.seed}) on library revision ${v.library}: Deno ${v.deno}, Bun ${v.bun}; client ` +
    `${v.client}; ${header.machine.nproc} × ${header.machine.cpu}, ` +
    `Linux ${header.machine.kernel}.`,
    "",
    `${header.sockets} keep-alive sockets, each sending one request at a time ` +
    `(${Math.round(header.postShare * 100)}% \`POST /echo\` with ${header.bodyBytes} bytes, ` +
    `the rest \`GET /\`), SIGTERM mid-load, the load going on until the server has exited. ` +
    `Per shutdown (${header.reps} per row, each on a fresh server); counts are median (max) ` +
    `over the shutdowns. **Lost** = a request written on a socket that got no complete response ` +
    `(reset, FIN, EPIPE, partial, timeout). A refused connect (ECONNREFUSED, retried every ` +
    `${header.refusedRetryMs} ms per socket) writes nothing and is counted apart: with no other ` +
    `instance it is the expected answer once the listener is closed.`,
  ];
  for (const load of header.loads) {
    const rate = summaries.filter((s) => s.load === load.id).map((s) => s.rateBeforeSigterm.median);
    const lo = Math.min(...rate);
    const hi = Math.max(...rate);
    lines.push(
      "",
      `### Load "${load.id}": think time ${load.thinkMs} ms mean per socket ` +
        `(${_n(Math.round(lo / 100) / 10)}k–${
          _n(Math.round(hi / 100) / 10)
        }k req/s before SIGTERM)`,
      "",
      "| runtime | shutdown | lost on reused sockets | lost on fresh sockets | all lost: median (min–max) | shutdowns with a loss | ECONNREFUSED connects | SIGTERM → listener closed (server log, ms) | SIGTERM → exit (ms): median (min–max) | 2xx after SIGTERM |",
      "|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const runtime of runtimes) {
      for (const row of header.rows) {
        const s = _summary(summaries, load.id, runtime, row.id);
        if (!s) continue;
        const label = `${_RUNTIME_LABEL[runtime]} ${v[runtime]}`;
        const bad = s.badResponses > 0 ? `; **${s.badResponses} bad responses**` : "";
        const exits = Object.entries(s.exitCodes).filter(([code]) => code !== "0");
        const exitNote = exits.length > 0
          ? `; **exit ${exits.map(([c, n]) => `${c}×${n}`).join(", ")}**`
          : "";
        lines.push(
          `| ${label} | ${rowLabel(row, runtime)} | ${_medMax(s.lostReused)} | ` +
            `${_medMax(s.lostFresh)} | **${_range(s.lostTotal)}**${bad} | ` +
            `${s.runsWithLoss}/${s.runs} | ${_n(s.refused.median)} | ` +
            `${_range(s.listenerClosedAfterMs, 1)} | ${
              _range(s.sigtermToExitMs, 1)
            }${exitNote} | ` +
            `${_n(s.okAfterSigterm.median)} |`,
        );
      }
    }
    lines.push(
      "",
      "How the lost requests failed (sum over the shutdowns), when they were written, and what " +
        "the client saw of `Connection: close`:",
      "",
      "| runtime | shutdown | lost requests by socket and error | written at (ms after SIGTERM): median (min–max) | reused socket idle before the lost write (ms): median (min–max) | req/s before SIGTERM: median (min–max) | first `Connection: close` response (ms after SIGTERM) | `Connection: close` responses | writes on a socket after its `Connection: close` response | sockets closed by the server while idle (not reused) |",
      "|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const runtime of runtimes) {
      for (const row of header.rows) {
        const s = _summary(summaries, load.id, runtime, row.id);
        if (!s) continue;
        const by = Object.entries(s.lostBy).sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `${k} ${n}`).join("; ") || "none";
        lines.push(
          `| ${_RUNTIME_LABEL[runtime]} | ${rowLabel(row, runtime)} | ${by} | ` +
            `${_range(s.lostStartMs, 1)} | ${_range(s.reusedIdleMs, 2)} | ` +
            `${_range(s.rateBeforeSigterm)} | ` +
            `${
              s.runsWithConnectionClose === 0
                ? "none seen"
                : `${_range(s.firstConnectionCloseMs, 1)}` +
                  (s.runsWithConnectionClose < s.runs
                    ? ` (in ${s.runsWithConnectionClose}/${s.runs} shutdowns)`
                    : "")
            } | ` +
            `${_n(s.connectionCloseResponses.median)} | ${s.writesAfterConnectionClose} | ` +
            `${_n(s.closedWhileIdle.median)} |`,
        );
      }
    }
  }
  lines.push(
    "",
    "Server pinned to CPU 0; the client runs in the orchestrator (node:net), pinned to CPU 1. " +
      "Times are the orchestrator's `performance.now()` from sending SIGTERM; the listener-close " +
      "time is what the server logged, counted from its own start of the shutdown. " +
      "`Connection: close` counts are medians per shutdown; the writes after it are summed (a " +
      "compliant client makes none). Method and caveats: bench/README.md.",
    "",
  );
  return lines.join("\n");
}
