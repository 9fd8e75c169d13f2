// The figures tables of the docs, rendered from the results files, so that they cannot drift from
// what was measured. A table sits between two markers in README.md or docs/*.md:
//
//   <!-- figures:NAME -->
//   (generated: do not edit)
//   <!-- /figures:NAME -->
//
// and the prose around it stays hand-written. Each results file has one small module in
// tools/figures/ (a FigureSource: its tables by NAME, and its rows of the README's summary table,
// NAME `summary`); SOURCES below lists them. To show another results file: write
// tools/figures/NAME.ts exporting a FigureSource (`path`, `tables: { NAME: (results) => markdown }`
// and/or `summary: (results) => rows`, with the helpers of tools/figures/_table.ts), add it to
// SOURCES, put its markers where the table goes and run `npm run figures`.
//
//   npm run figures            rewrite the tables from the results files
//   npm run figures -- --check fail (exit 1) if a committed table differs from its results file
//                              (part of `npm run check`; reads files only, runs no benchmark)
//
// --results=DIR reads the results files below DIR instead of the repository (e.g. the committed
// ones, from `git archive HEAD bench/results tests/rollout/results | tar -x -C DIR`).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { corun } from "./figures/corun.ts";
import { corunNode } from "./figures/corun_node.ts";
import { latest } from "./figures/latest.ts";
import { peers } from "./figures/peers.ts";
import { rollout } from "./figures/rollout.ts";
import { sse } from "./figures/sse.ts";
import {
  type FigureSource,
  type Runtime,
  runtimeName,
  runtimesOf,
  type SummaryRow,
  table,
} from "./figures/_table.ts";

/** Every results file the docs show, in the order of the README's summary table. */
export const SOURCES: readonly FigureSource[] = [corun, corunNode, latest, sse, rollout, peers];

/** The summary table's marker name. */
export const SUMMARY = "summary";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

const _MARKER = /<!-- (\/?)figures:([\w-]+) -->/g;

/** One marked block of a file: where it starts and ends (the markers included) and its name. */
export interface Block {
  name: string;
  start: number;
  end: number;
  body: string;
}

/**
 * The marked blocks of `text`, in order.
 * @throws {Error} on an end marker without its start, a start without its end, or nesting.
 */
export function blocks(text: string, file: string): Block[] {
  const out: Block[] = [];
  let open: { name: string; start: number; bodyStart: number } | undefined;
  for (const m of text.matchAll(_MARKER)) {
    const [whole, slash, name] = m as unknown as [string, string, string];
    if (slash === "") {
      if (open) {
        throw new Error(`${file}: <!-- figures:${name} --> inside figures:${open.name}`);
      }
      open = { name, start: m.index, bodyStart: m.index + whole.length };
    } else {
      if (open?.name !== name) {
        throw new Error(`${file}: <!-- /figures:${name} --> without its start marker`);
      }
      out.push({
        name,
        start: open.start,
        end: m.index + whole.length,
        body: text.slice(open.bodyStart, m.index),
      });
      open = undefined;
    }
  }
  if (open) throw new Error(`${file}: <!-- figures:${open.name} --> has no end marker`);
  return out;
}

/**
 * `text` with every block's body replaced by its table from `tables`.
 * @throws {Error} on a block name that `tables` does not have.
 */
export function splice(text: string, file: string, tables: ReadonlyMap<string, string>): string {
  let out = "";
  let at = 0;
  for (const b of blocks(text, file)) {
    const body = tables.get(b.name);
    if (body === undefined) {
      throw new Error(
        `${file}: no table named "${b.name}"; known: ${[...tables.keys()].join(", ")}`,
      );
    }
    out += text.slice(at, b.start) +
      `<!-- figures:${b.name} -->\n\n${body.trim()}\n\n<!-- /figures:${b.name} -->`;
    at = b.end;
  }
  return out + text.slice(at);
}

/** The README's summary table: one row per result, a column per runtime any row measured. */
export function summaryTable(rows: readonly SummaryRow[]): string {
  const runtimes = runtimesOf(rows.flatMap((r) => Object.keys(r.cells)));
  // One version per runtime goes in the header; rows measured on another one say theirs.
  const header = new Map<Runtime, string>();
  for (const r of runtimes) {
    const seen = new Set(rows.map((row) => row.versions[r]).filter((v) => v !== undefined));
    header.set(r, seen.size === 1 ? `${runtimeName(r)} ${[...seen][0]}` : runtimeName(r));
  }
  return table(
    ["what", "command", ...runtimes.map((r) => header.get(r)!)],
    rows.map((row) => [
      row.what,
      `\`${row.command}\``,
      ...runtimes.map((r) => {
        const cell = row.cells[r];
        if (cell === undefined) return "—";
        return header.get(r) === runtimeName(r) ? `${cell} (${row.versions[r]})` : cell;
      }),
    ]),
  );
}

/**
 * Every table, rendered from the results files under `root`.
 * @throws {Error} naming the file and the table when a results file is missing or a renderer
 * does not find what it reads there (the file's format changed: update its module).
 */
export function renderAll(root: string, sources: readonly FigureSource[]): Map<string, string> {
  const tables = new Map<string, string>();
  const summary: SummaryRow[] = [];
  for (const source of sources) {
    const path = join(root, source.path);
    if (!existsSync(path)) throw new Error(`figures: ${source.path} does not exist`);
    const results: unknown = JSON.parse(readFileSync(path, "utf8"));
    const attempt = <T>(what: string, render: () => T): T => {
      try {
        return render();
      } catch (error) {
        throw new Error(
          `figures: rendering ${what} from ${source.path} failed (has its format changed? ` +
            `update its module in tools/figures/): ${
              error instanceof Error ? error.message : error
            }`,
        );
      }
    };
    for (const [name, render] of Object.entries(source.tables ?? {})) {
      if (tables.has(name) || name === SUMMARY) {
        throw new Error(`figures: two tables are named "${name}"`);
      }
      tables.set(name, attempt(`table "${name}"`, () => render(results)));
    }
    if (source.summary) {
      summary.push(...attempt("its summary rows", () => source.summary!(results)));
    }
  }
  tables.set(SUMMARY, summaryTable(summary));
  return tables;
}

/** The Markdown files that may hold tables: README.md and docs/*.md. */
function markdownFiles(root: string): string[] {
  const docs = readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).sort();
  return ["README.md", ...docs.map((f) => `docs/${f}`)];
}

/** `text` as `deno fmt` formats Markdown under this repository's configuration. */
async function format(root: string, text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`figures: deno fmt failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

async function main(): Promise<void> {
  let check = false;
  let results = ROOT;
  for (const arg of Deno.args) {
    if (arg === "--check") check = true;
    else if (arg.startsWith("--results=") && arg.length > 10) results = arg.slice(10);
    else {
      throw new TypeError(
        `figures: unknown argument ${JSON.stringify(arg)}; expected --check or --results=DIR`,
      );
    }
  }
  const tables = renderAll(results, SOURCES);
  const shown = new Set<string>();
  const stale: string[] = [];
  for (const file of markdownFiles(ROOT)) {
    const text = await Deno.readTextFile(join(ROOT, file));
    const found = blocks(text, file);
    if (found.length === 0) continue;
    for (const b of found) shown.add(b.name);
    const next = await format(ROOT, splice(text, file, tables));
    if (next === text) continue;
    if (check) {
      const before = new Map(found.map((b) => [b.name, b.body]));
      const changed = blocks(next, file).filter((b) => before.get(b.name) !== b.body);
      stale.push(
        `${file}: ${
          changed.length > 0
            ? `figures:${changed.map((b) => b.name).join(", figures:")}`
            : "text around the tables (deno fmt)"
        }`,
      );
    } else {
      await Deno.writeTextFile(join(ROOT, file), next);
      console.error(`figures: rewrote ${file}`);
    }
  }
  for (const name of tables.keys()) {
    if (!shown.has(name)) console.error(`figures: table "${name}" is shown in no file (no marker)`);
  }
  if (stale.length > 0) {
    console.error(
      `figures: the docs differ from the results files:\n  ${stale.join("\n  ")}\n` +
        `Run \`npm run figures\` to rewrite them from the results.`,
    );
    Deno.exit(1);
  }
  if (check) console.error(`figures: ${shown.size} tables agree with their results files`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
