// bench/results/latest.json (`npm run bench`): how fast a shutdown ends the process, last response
// byte → exit, raw server and library. Table `shutdown` (docs/figures.md) and one summary row.

import {
  caption,
  day,
  type FigureSource,
  ms,
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

const PATH = "bench/results/latest.json";

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
  tables: { shutdown: shutdownTable },
  summary: (results) => {
    const l = results as Latest;
    const cells: Partial<Record<Runtime, string>> = {};
    for (const [r, s] of byRuntime(l)) {
      const { demo, raw } = s.summary.lastByteToExit;
      cells[r] = `${pair(demo, 1)} (raw ${pair(raw, 1).replace(" ms", "")})`;
    }
    return [{
      what: "last response byte → process exit, p50 / p99",
      command: l.command,
      cells,
      versions: versions(l),
    }];
  },
};
