// Per release line: the library's cost on every supported Deno and Bun line, on the path built on
// public APIs alone and on the fast path (Deno's probed internals) side by side, each measured
// against the raw runtime with the same handler in the same seconds (./side_by_side.ts).

import { installLines, reportedVersion } from "../../tools/compat/install.ts";
import { isReleaseOf, type RuntimeLine, runtimeLines } from "../../tools/compat/lines.ts";
import { type RuntimeCommand, runtimeCommand } from "../../tools/lib/runtimes.ts";
import {
  type CaseResult,
  type Side,
  sideBySideCase,
  type SideBySideSettings,
} from "./side_by_side.ts";

/** The handler shapes measured: no parameters, `(request, info)`, a Hono app. */
export type LineApp = "plain" | "args" | "hono";
/** Public APIs only (`GRACEFUL_SERVE_INTERNALS=off`), or with Deno's probed internals. */
export type LinePath = "public" | "fast";

/** The goal of the path on public APIs alone, on every line (graceful ÷ raw). */
export const LINE_PUBLIC_GOAL = 0.93;
/** The goal on the pinned releases, with SSE detection on (Deno's fast path, Bun's only path). */
export const LINE_PINNED_GOAL = 0.97;

/** One line's figures. */
export interface LineFigures {
  line: string;
  runtime: "deno" | "bun";
  version: string;
  pinned: boolean;
  cases: { app: LineApp; path: LinePath; result: CaseResult }[];
}

/** What the per-line figures found. */
export interface LinesResult {
  lines: LineFigures[];
  /** Lines that could not be measured, with why (also logged). */
  missing: { line: string; reason: string }[];
  rounds: number;
  seconds: number;
}

/** The Deno and Bun lines whose binaries are there, installing missing cached ones once. */
function _availableLines(
  log: (line: string) => void,
): { ready: RuntimeLine[]; missing: LinesResult["missing"] } {
  const wanted = runtimeLines().filter((l) => l.runtime === "deno" || l.runtime === "bun");
  const absent = wanted.filter((l) => !isReleaseOf(l, reportedVersion(l)));
  const missing: LinesResult["missing"] = [];
  if (absent.length > 0) {
    log(`bench: installing missing runtime lines (${absent.map((l) => l.name).join(", ")})`);
    try {
      installLines();
    } catch (error) {
      log(`bench: MISSING LINES: installing failed: ${(error as Error).message}`);
    }
  }
  const ready: RuntimeLine[] = [];
  for (const line of wanted) {
    const found = reportedVersion(line);
    if (isReleaseOf(line, found)) {
      ready.push(line);
      continue;
    }
    const reason =
      `${line.binary} ${
        found === undefined ? "is missing or does not run" : `reports ${found}`
      }, expected ${line.version} (install with ` +
      "`node_modules/deno/deno run -A tools/compat/install.ts`)";
    log(`bench: MISSING LINE ${line.name}: ${reason}`);
    missing.push({ line: line.name, reason });
  }
  return { ready, missing };
}

/**
 * The cases of one line: each handler shape, on each path the runtime has. `args` only differs
 * from `plain` on Deno (2.9 serves a handler without parameters on a faster path); `quick` leaves
 * it out to keep CI's run short.
 */
function _cases(
  runtime: RuntimeCommand,
  quick: boolean,
): { app: LineApp; path: LinePath; name: string; a: Side; b: Side }[] {
  const apps: LineApp[] = runtime.name === "deno" && !quick
    ? ["plain", "args", "hono"]
    : ["plain", "hono"];
  // Bun has no internal path: graceful() there is the public-API path.
  const paths: LinePath[] = runtime.name === "deno" ? ["public", "fast"] : ["public"];
  const cases = [];
  for (const app of apps) {
    for (const path of paths) {
      const internals: Record<string, string> = path === "public" && runtime.name === "deno"
        ? { GRACEFUL_SERVE_INTERNALS: "off" }
        : {};
      cases.push({
        app,
        path,
        name: `${runtime.name} ${runtime.version} ${app} ${path}`,
        a: { label: `raw ${app}`, env: { MODE: "raw", APP: app } },
        b: {
          label: `graceful ${app}, ${path === "public" ? "public APIs" : "fast path"}`,
          env: { MODE: "graceful", APP: app, ...internals },
        },
      });
    }
  }
  return cases;
}

/**
 * Measures every available line, `rounds` rounds of `settings.seconds` per case (`quick`: without
 * Deno's `args` shape).
 */
export async function lineFigures(
  settings: SideBySideSettings,
  rounds: number,
  quick: boolean,
  random: () => number,
  log: (line: string) => void,
): Promise<LinesResult> {
  const { ready, missing } = _availableLines(log);
  const lines: LineFigures[] = [];
  for (const line of ready) {
    const runtime = await runtimeCommand(line.runtime as "deno" | "bun", line.binary);
    log(`lines: ${line.name} (${line.binary})`);
    const figures: LineFigures = {
      line: line.name,
      runtime: runtime.name,
      version: runtime.version,
      pinned: line.pinned,
      cases: [],
    };
    for (const c of _cases(runtime, quick)) {
      const result = await sideBySideCase(
        settings,
        { name: c.name, runtime, a: c.a, b: c.b },
        rounds,
        random,
        log,
      );
      figures.cases.push({ app: c.app, path: c.path, result });
    }
    lines.push(figures);
  }
  return { lines, missing, rounds, seconds: settings.seconds };
}
