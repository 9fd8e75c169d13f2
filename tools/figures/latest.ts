// bench/results/latest.json (`npm run bench`): how fast a shutdown ends the process, last response
// byte → exit, raw server and library (table `shutdown`); what the library costs on every supported
// release line, public-API path beside the fast path (table `lines`); one summary row each.

import {
  caption,
  day,
  type FigureSource,
  ms,
  ratio,
  type Runtime,
  runtimeName,
  runtimesOf,
  table,
  version,
} from "./_table.ts";

interface Percentiles {
  n: number;
  p50: number;
  p99: number;
}

interface Latest {
  date: string;
  command: string;
  versions: Record<string, string>;
  shutdown: {
    runtime: Runtime;
    summary: { lastByteToExit: { demo: Percentiles; raw: Percentiles } };
  }[];
}

/** One case of the per-line figures (bench/lib/lines.ts). */
interface LineCase {
  app: string;
  path: "public" | "fast";
  result: { ratio: { median: number }; rounds: unknown[] };
}

interface Lines {
  lines: { runtime: Runtime; version: string; pinned: boolean; cases: LineCase[] }[];
  missing: { line: string; reason: string }[];
  rounds: number;
  seconds: number;
}

const PATH = "bench/results/latest.json";

/** The per-line figures, or an error naming the file when the run had none. */
function linesOf(results: unknown): Lines {
  const lines = (results as { lines?: Lines }).lines;
  if (lines === undefined) {
    throw new Error(`${PATH} has no per-line figures: run \`npm run bench\` (not --only)`);
  }
  return lines;
}

function linesTable(results: unknown): string {
  const l = results as Latest;
  const lines = linesOf(results);
  const cell = (cases: LineCase[], app: string, path: LineCase["path"]): string => {
    const found = cases.find((c) => c.app === app && c.path === path);
    return found === undefined ? "—" : ratio(found.result.ratio.median);
  };
  const rows: string[][] = [];
  for (const line of lines.lines) {
    for (const app of [...new Set(line.cases.map((c) => c.app))]) {
      rows.push([
        `${runtimeName(line.runtime)} ${line.version}${line.pinned ? " (pinned)" : ""}`,
        app,
        cell(line.cases, app, "public"),
        cell(line.cases, app, "fast"),
      ]);
    }
  }
  for (const m of lines.missing) rows.push([m.line, "not measured", "—", "—"]);
  return caption(PATH, l.command, [
    day(l.date),
    `library ${l.versions.library}`,
    `${lines.rounds} rounds of ${lines.seconds} s per case`,
  ]) + "\n\n" +
    table(
      [
        "requests served, graceful ÷ raw (median, side by side)",
        "handler",
        "public APIs only",
        "fast path",
      ],
      rows,
    );
}

/** The lowest and highest median of `path` over every line of `runtime`. */
function linesRange(lines: Lines, runtime: Runtime, path: LineCase["path"]): string | undefined {
  const medians = lines.lines.filter((l) => l.runtime === runtime)
    .flatMap((l) => l.cases.filter((c) => c.path === path).map((c) => c.result.ratio.median));
  if (medians.length === 0) return undefined;
  return `${ratio(Math.min(...medians))}–${ratio(Math.max(...medians))}`;
}

function byRuntime(l: Latest): Map<Runtime, Latest["shutdown"][number]> {
  return new Map(l.shutdown.map((s) => [s.runtime, s]));
}

function pair(p: Percentiles, digits: number): string {
  return `${ms(p.p50, digits)} / ${ms(p.p99, digits)} ms`;
}

function versions(l: Latest): Partial<Record<Runtime, string>> {
  return Object.fromEntries(
    [...byRuntime(l).keys()].map((r) => [r, version(l.versions[r])]),
  );
}

function shutdownTable(results: unknown): string {
  const l = results as Latest;
  const rows = byRuntime(l);
  const runtimes = runtimesOf(rows.keys());
  const runs = Math.max(...l.shutdown.map((s) => s.summary.lastByteToExit.demo.n));
  const cell = (r: Runtime, which: "raw" | "demo"): string =>
    pair(rows.get(r)!.summary.lastByteToExit[which], 2);
  return caption(PATH, l.command, [day(l.date), `library ${l.versions.library}`]) + "\n\n" +
    table(
      [
        `last response byte → process exit (p50 / p99 of ${runs} runs)`,
        ...runtimes.map((r) => `${runtimeName(r)} ${version(l.versions[r])}`),
      ],
      [
        ["raw server", ...runtimes.map((r) => cell(r, "raw"))],
        ["with the library", ...runtimes.map((r) => cell(r, "demo"))],
      ],
    );
}

export const latest: FigureSource = {
  path: PATH,
  tables: { shutdown: shutdownTable, lines: linesTable },
  summary: (results) => {
    const l = results as Latest;
    const lines = linesOf(results);
    const lineCells: Partial<Record<Runtime, string>> = {};
    for (const r of runtimesOf(lines.lines.map((line) => line.runtime))) {
      const fast = linesRange(lines, r, "fast");
      lineCells[r] = `${linesRange(lines, r, "public")}` +
        (fast === undefined ? "" : ` (fast path ${fast})`);
    }
    const cells: Partial<Record<Runtime, string>> = {};
    for (const [r, s] of byRuntime(l)) {
      const { demo, raw } = s.summary.lastByteToExit;
      cells[r] = `${pair(demo, 1)} (raw ${pair(raw, 1).replace(" ms", "")})`;
    }
    return [{
      what:
        "requests served ÷ raw, public APIs only, every supported line and handler: lowest–highest",
      command: l.command,
      cells: lineCells,
      versions: versions(l),
    }, {
      what: "last response byte → process exit, p50 / p99",
      command: l.command,
      cells,
      versions: versions(l),
    }];
  },
};
