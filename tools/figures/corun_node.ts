// bench/results/node/corun.json (`npm run bench:corun -- --only=node --out=bench/results/node`):
// the library on Node against plain @hono/node-server serving the same app, side by side. Table
// `corun_node` (docs/figures.md).

import { caption, type FigureSource, ratio, table, version } from "./_table.ts";

interface CorunNode {
  command: string;
  revision: string;
  options: { rounds: number };
  results: {
    name: string;
    runtime: string;
    ratio: { median: number; low: number; high: number };
    cpuRatio: { median: number };
  }[];
}

const PATH = "bench/results/node/corun.json";

/** The row label of a Node case. */
const LABELS: Record<string, string> = {
  "node-plain control": "control: plain @hono/node-server against itself",
  "node-plain": "plain fetch handler, `graceful()` + `attach()`",
  "node-hono": "Hono app, `graceful()` + `attach()`",
  "node-hono serve()": "Hono app, `serve()`",
};

function corunNodeTable(results: unknown): string {
  const c = results as CorunNode;
  const rows = c.results.filter((r) => r.name.startsWith("node-")).map((r) => [
    LABELS[r.name] ?? r.name,
    ratio(r.ratio.median),
    `${ratio(r.ratio.low)}–${ratio(r.ratio.high)}`,
    ratio(r.cpuRatio.median),
  ]);
  const node = version(c.results.find((r) => r.name.startsWith("node-"))?.runtime);
  return caption(PATH, c.command, [`library ${c.revision}`]) + "\n\n" + table(
    [
      `Node.js ${node}, compared ÷ plain @hono/node-server (median of ${c.options.rounds} rounds)`,
      "requests served",
      "95% CI of the median",
      "CPU per request",
    ],
    rows,
  );
}

export const corunNode: FigureSource = {
  path: PATH,
  tables: { corun_node: corunNodeTable },
  // The README's Node figure: the Hono app through serve() and through graceful() + attach().
  summary: (results) => {
    const c = results as CorunNode;
    const of = (name: string) => c.results.find((r) => r.name === name);
    const served = of("node-hono serve()");
    const attached = of("node-hono");
    if (served === undefined || attached === undefined) return [];
    return [{
      what: "requests served on Node, Hono app ÷ plain @hono/node-server: `serve()` / `graceful()`",
      command: c.command,
      cells: { node: `${ratio(served.ratio.median)} / ${ratio(attached.ratio.median)}` },
      versions: { node: version(served.runtime) },
    }];
  },
};
