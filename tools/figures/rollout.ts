// tests/rollout/results/latest.json (`npm run test:rollout`): rolling restarts behind nginx,
// requests the client saw fail per row. Table `rollout` (docs/figures.md: the rows where each
// replacement is on a new port and nginx is reloaded) and one summary row.

import {
  caption,
  day,
  type FigureSource,
  type Runtime,
  runtimeName,
  runtimesOf,
  table,
  version,
} from "./_table.ts";

interface Row {
  spec: {
    runtime: Runtime;
    topology: string;
    server: string;
    drainDelayMs: number | null;
    client?: string;
  };
  failures: number;
}

interface Rollout {
  date: string;
  durationS: number;
  restartsPerRow: number;
  library: string;
  versions: Record<string, string>;
  rows: Row[];
}

const PATH = "tests/rollout/results/latest.json";
const COMMAND = "npm run test:rollout";
const TOPOLOGY = "reload";

function label(spec: Row["spec"]): string {
  if (spec.server === "raw-exit") return "raw, SIGTERM kills it";
  if (spec.server === "raw-shutdown") return "raw `shutdown()` / `stop()`";
  if (spec.server === "library") {
    return spec.drainDelayMs === null
      ? "library, default lame duck"
      : `library, \`drainDelay: ${spec.drainDelayMs}\``;
  }
  return spec.server;
}

/** Rows of the reload topology by label, each with its failures per runtime (in file order). */
function reloadRows(r: Rollout): Map<string, Partial<Record<Runtime, number>>> {
  const rows = new Map<string, Partial<Record<Runtime, number>>>();
  for (const row of r.rows.filter((x) => x.spec.topology === TOPOLOGY)) {
    const key = label(row.spec);
    rows.set(key, { ...rows.get(key), [row.spec.runtime]: row.failures });
  }
  return rows;
}

/** The order of the table: raw first, then the library from the default to the longest delay. */
const ORDER = [
  "raw, SIGTERM kills it",
  "raw `shutdown()` / `stop()`",
  "library, default lame duck",
];

function rolloutTable(results: unknown): string {
  const r = results as Rollout;
  const rows = [...reloadRows(r)].sort(([a], [b]) => {
    const rank = (x: string): number => ORDER.includes(x) ? ORDER.indexOf(x) : ORDER.length;
    return rank(a) - rank(b) || a.localeCompare(b, "en", { numeric: true });
  });
  const runtimes = runtimesOf(r.rows.map((x) => x.spec.runtime));
  return caption(PATH, COMMAND, [
    day(r.date),
    `library ${r.library}`,
    `${r.durationS} s and ${r.restartsPerRow} restarts per row`,
  ]) + "\n\n" + table(
    ["instance", ...runtimes.map((x) => `${runtimeName(x)} ${version(r.versions[x])}`)],
    rows.map(([key, cells]) => [key, ...runtimes.map((x) => String(cells[x] ?? "—"))]),
  );
}

export const rollout: FigureSource = {
  path: PATH,
  tables: { rollout: rolloutTable },
  summary: (results) => {
    const r = results as Rollout;
    const rows = reloadRows(r);
    const raw = rows.get("raw, SIGTERM kills it") ?? {};
    const library = rows.get("library, default lame duck") ?? {};
    const cells: Partial<Record<Runtime, string>> = {};
    const versions: Partial<Record<Runtime, string>> = {};
    for (const x of runtimesOf(Object.keys(library))) {
      cells[x] = `${raw[x] ?? "?"} → ${library[x]}`;
      versions[x] = version(r.versions[x]);
    }
    return [{
      what: "rolling restarts behind nginx: requests lost, raw SIGTERM → library",
      command: COMMAND,
      cells,
      versions,
    }];
  },
};
