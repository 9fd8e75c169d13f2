// bench/results/corun.json (`npm run bench:corun`): requests served by the wrapped server ÷ the
// raw one, side by side. Table `corun` (docs/figures.md) and one summary row.

import {
  caption,
  type FigureSource,
  ratio,
  type Runtime,
  runtimeName,
  runtimesOf,
  table,
  version,
} from "./_table.ts";

interface Corun {
  command: string;
  revision: string;
  options: { rounds: number };
  results: { name: string; runtime: string; ratio: { median: number } }[];
}

const PATH = "bench/results/corun.json";

/** `bun-hono sseFinalFrame false` → runtime, app and variant. */
function parse(name: string): { runtime: Runtime; app: string; variant: string } {
  const m = name.match(/^(deno|bun|node)-(\w+)(?: (.+))?$/);
  if (!m) throw new Error(`${PATH}: unexpected case name ${JSON.stringify(name)}`);
  return { runtime: m[1] as Runtime, app: m[2]!, variant: m[3] ?? "" };
}

/** The row label of a case (its runtime aside). */
function label(app: string, variant: string): string {
  const what = app === "hono" ? "Hono app" : app === "plain" ? "plain fetch handler" : app;
  if (variant === "") return what;
  if (variant === "control") return `control: the raw ${app} server against itself`;
  if (variant === "sseFinalFrame false") return `${what}, \`sseFinalFrame: false\``;
  if (variant === "SSE check") return `raw ${what} + only the SSE content-type check`;
  return `${what}, ${variant}`;
}

function versions(c: Corun): Partial<Record<Runtime, string>> {
  const out: Partial<Record<Runtime, string>> = {};
  for (const r of c.results) out[parse(r.name).runtime] = version(r.runtime);
  return out;
}

function corunTable(results: unknown): string {
  const c = results as Corun;
  const rows = new Map<string, Partial<Record<Runtime, string>>>();
  // Controls first, then each variant for every app (plain before Hono), unknown variants last.
  const rank = (name: string): number => {
    const { app, variant } = parse(name);
    const order = ["control", "", "sseFinalFrame false", "SSE check"].indexOf(variant);
    return (order < 0 ? 4 : order) * 10 + (app === "plain" ? 0 : app === "hono" ? 1 : 2);
  };
  for (const r of [...c.results].sort((a, b) => rank(a.name) - rank(b.name))) {
    const { runtime, app, variant } = parse(r.name);
    const key = label(app, variant);
    rows.set(key, { ...rows.get(key), [runtime]: ratio(r.ratio.median) });
  }
  const v = versions(c);
  const runtimes = runtimesOf(Object.keys(v));
  return caption(PATH, c.command, [`library ${c.revision}`]) + "\n\n" + table(
    [
      `requests served, compared ÷ raw (median of ${c.options.rounds} rounds)`,
      ...runtimes.map((r) => `${runtimeName(r)} ${v[r]}`),
    ],
    [...rows].map(([key, cells]) => [key, ...runtimes.map((r) => cells[r] ?? "—")]),
  );
}

export const corun: FigureSource = {
  path: PATH,
  tables: { corun: corunTable },
  summary: (results) => {
    const c = results as Corun;
    const cells: Partial<Record<Runtime, string>> = {};
    const of = (name: string): number | undefined =>
      c.results.find((r) => r.name === name)?.ratio.median;
    for (const runtime of runtimesOf(Object.keys(versions(c)))) {
      const hono = of(`${runtime}-hono`);
      if (hono === undefined) continue;
      const off = of(`${runtime}-hono sseFinalFrame false`);
      cells[runtime] = ratio(hono) +
        (off === undefined ? "" : ` (${ratio(off)} without SSE detection)`);
    }
    return [{
      what: "requests served, wrapped Hono app ÷ raw (median, side by side)",
      command: c.command,
      cells,
      versions: versions(c),
    }];
  },
};
