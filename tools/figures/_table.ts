// What a figures renderer is, and the helpers renderers share. One module per results file
// (tools/figures/corun.ts for bench/results/corun.json, …) exports a FigureSource; tools/figures.ts
// lists them, reads their files and puts what they render between the docs' markers.

/** A runtime column of the tables, in this order. */
export type Runtime = "deno" | "bun" | "node";
export const RUNTIMES: readonly Runtime[] = ["deno", "bun", "node"];

/** One row of the README's summary table (`<!-- figures:summary -->`). */
export interface SummaryRow {
  what: string;
  /** The command that regenerates the results file. */
  command: string;
  /** One cell per runtime measured; a runtime no row has gets no column. */
  cells: Partial<Record<Runtime, string>>;
  /** The runtime versions measured (`2.9.5`), for the column headers. */
  versions: Partial<Record<Runtime, string>>;
}

/** A results file and what the docs show of it. */
export interface FigureSource {
  /** The results file, from the repository root (JSON). */
  path: string;
  /** Tables by marker name: each is put between `<!-- figures:NAME -->` and its end marker. */
  tables?: Record<string, (results: unknown) => string>;
  /** Its rows of the README's summary table, in order. */
  summary?: (results: unknown) => SummaryRow[];
}

/**
 * A Markdown table (deno fmt pads it afterwards). A column whose cells are all plain numbers (or
 * `—`) is aligned right.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
  const numeric = header.map((_, i) =>
    i > 0 && rows.length > 0 && rows.every((row) => /^(-?[\d.]+|—)$/.test(row[i] ?? ""))
  );
  return [
    line(header),
    line(numeric.map((right) => right ? "---:" : "---")),
    ...rows.map(line),
  ].join("\n");
}

/** `deno` → `Deno`, `bun` → `Bun`, `node` → `Node.js`. */
export function runtimeName(runtime: Runtime): string {
  return runtime === "node" ? "Node.js" : runtime[0]!.toUpperCase() + runtime.slice(1);
}

/** The first `x.y.z` in a version string (`deno 2.9.5 (stable, …)` → `2.9.5`). */
export function version(text: string | undefined): string {
  return text?.match(/\d+\.\d+\.\d+/)?.[0] ?? "?";
}

/** The runtimes among `keys`, in column order. */
export function runtimesOf(keys: Iterable<string>): Runtime[] {
  const present = new Set(keys);
  return RUNTIMES.filter((r) => present.has(r));
}

/** A ratio as the tables print it: three decimals. */
export function ratio(value: number): string {
  return value.toFixed(3);
}

/** Milliseconds with `digits` decimals. */
export function ms(value: number, digits = 0): string {
  return value.toFixed(digits);
}

/** An integer with a thin group separator: 10000 → `10 000`. */
export function count(value: number): string {
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/** `YYYY-MM-DD` of an ISO date, or undefined. */
export function day(iso: string | undefined): string | undefined {
  return iso?.slice(0, 10);
}

/** The line above a table: where its figures come from. */
export function caption(
  path: string,
  command: string,
  extra: (string | undefined)[] = [],
): string {
  const rest = extra.filter((x) => x !== undefined && x !== "");
  return `From \`${path}\` (\`${command}\`${rest.length > 0 ? `; ${rest.join("; ")}` : ""}):`;
}
