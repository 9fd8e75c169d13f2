// bench/results/sse.json (`npm run bench:sse`): the most open SSE streams measured, SIGTERM, the
// raw server beside the library. Table `sse` (docs/figures.md) and one summary row.

import {
  caption,
  count,
  day,
  type FigureSource,
  ms,
  type Runtime,
  runtimeName,
  runtimesOf,
  table,
  version,
} from "./_table.ts";

interface Summary {
  runtime: Runtime;
  streams: number;
  runs: number;
  raw: { exitedByItself: number; limitMs: number };
  graceful: {
    opened: number;
    clean: number;
    lastEndMs: { median: number };
    lastEndBeyondGraceMs: { median: number };
    exitMs: { median: number };
  };
}

interface Sse {
  date: string;
  command: string;
  versions: Record<string, string>;
  streamGraceMs: number;
  summaries: Summary[];
}

const PATH = "bench/results/sse.json";

/** The rows of the largest stream count, by runtime. */
function largest(s: Sse): { streams: number; rows: Map<Runtime, Summary> } {
  const streams = Math.max(...s.summaries.map((x) => x.streams));
  return {
    streams,
    rows: new Map(s.summaries.filter((x) => x.streams === streams).map((x) => [x.runtime, x])),
  };
}

function rawCell(x: Summary): string {
  const limit = `SIGKILL after ${x.raw.limitMs / 1000} s`;
  if (x.raw.exitedByItself === 0) return `never exits (${limit})`;
  return `exits in ${x.raw.exitedByItself} of ${x.runs} runs (else ${limit})`;
}

function sseTable(results: unknown): string {
  const s = results as Sse;
  const { streams, rows } = largest(s);
  const runtimes = runtimesOf(rows.keys());
  const cells = (pick: (x: Summary) => string): string[] => runtimes.map((r) => pick(rows.get(r)!));
  const runs = Math.max(...[...rows.values()].map((x) => x.runs));
  return caption(PATH, s.command, [day(s.date), `library ${s.versions.library}`]) + "\n\n" +
    table(
      [
        `${count(streams)} open SSE streams, SIGTERM (median of ${runs} runs)`,
        ...runtimes.map((r) => `${runtimeName(r)} ${version(s.versions[r])}`),
      ],
      [
        ["raw `shutdown()` / `stop()`", ...cells(rawCell)],
        [
          "with the library: streams ended cleanly, all runs",
          ...cells((x) => `${count(x.graceful.clean)} of ${count(x.graceful.opened)}`),
        ],
        [
          "with the library: the last stream ended",
          ...cells((x) =>
            `${ms(x.graceful.lastEndMs.median)} ms (${s.streamGraceMs} ms grace + ${
              ms(x.graceful.lastEndBeyondGraceMs.median)
            } ms)`
          ),
        ],
        [
          "with the library: SIGTERM → process exit",
          ...cells((x) => `${ms(x.graceful.exitMs.median)} ms`),
        ],
      ],
    );
}

export const sse: FigureSource = {
  path: PATH,
  tables: { sse: sseTable },
  summary: (results) => {
    const s = results as Sse;
    const { streams, rows } = largest(s);
    const all = [...rows.values()].every((x) => x.graceful.clean === x.graceful.opened);
    const cells: Partial<Record<Runtime, string>> = {};
    const versions: Partial<Record<Runtime, string>> = {};
    for (const [r, x] of rows) {
      const cut = x.graceful.opened - x.graceful.clean;
      cells[r] = `${ms(x.graceful.exitMs.median)} ms${cut > 0 ? `, ${count(cut)} not clean` : ""}` +
        ` (raw: ${
          x.raw.exitedByItself === 0 ? "never" : `${x.raw.exitedByItself}/${x.runs} runs`
        })`;
      versions[r] = version(s.versions[r]);
    }
    return [{
      what: `${count(streams)} open SSE streams at SIGTERM: ${
        all ? "all ended cleanly" : "ended"
      }, exit after`,
      command: s.command,
      cells,
      versions,
    }];
  },
};
