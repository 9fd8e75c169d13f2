// The per-line figures' tables (bench/lib/report.ts for bench/results/latest.md, the `lines` table of
// tools/figures/latest.ts for docs/figures.md): each line's goals judged on the right path, Bun
// without a fast path, and a line that could not be measured named, never left out.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { LinesResult } from "../../bench/lib/lines.ts";
import { linesMarkdown } from "../../bench/lib/report.ts";
import type { CaseResult } from "../../bench/lib/side_by_side.ts";
import { latest } from "../../tools/figures/latest.ts";

function result(median: number, rounds = 3): CaseResult {
  const round = { requests: { a: 1, b: 1 }, cpuTicks: { a: 1, b: 1 }, ratio: median, cpuRatio: 1 };
  return {
    name: "case",
    runtime: "x",
    a: "raw",
    b: "graceful",
    rounds: Array.from({ length: rounds }, () => ({ ...round, errors: 0 })),
    ratio: { median, min: median - 0.01, max: median + 0.01, low: median, high: median },
    cpuRatio: { median: 1.02, min: 1, max: 1.04 },
  };
}

const LINES: LinesResult = {
  rounds: 3,
  seconds: 3,
  lines: [
    {
      line: "deno-2.9.5",
      runtime: "deno",
      version: "2.9.5",
      pinned: true,
      cases: [
        { app: "plain", path: "public", result: result(0.92) },
        { app: "plain", path: "fast", result: result(0.98) },
      ],
    },
    {
      line: "bun-1.4.5",
      runtime: "bun",
      version: "1.4.5",
      pinned: true,
      cases: [{ app: "hono", path: "public", result: result(0.95) }],
    },
  ],
  missing: [{ line: "deno-2.2.15", reason: "/cache/deno is missing" }],
};

describe("per-line figures", () => {
  it("judges the public goal on the public path and the pinned goal on the default path", () => {
    const md = linesMarkdown(LINES);
    assert.match(
      md,
      /^\| Deno 2\.9\.5 \(pinned\) \| plain \| \*\*0\.920\*\* \(0\.910–0\.930; 3 rounds; CPU\/request 1\.020\) \| \*\*0\.980\*\* .* \| public ≥ 0\.93: \*\*missed\*\*; pinned ≥ 0\.97: met \|$/m,
    );
    // Bun's only path is its public one: both goals are judged on it.
    assert.match(
      md,
      /^\| Bun 1\.4\.5 \(pinned\) \| hono \| \*\*0\.950\*\* .* \| — \(no internal path\) \| public ≥ 0\.93: met; pinned ≥ 0\.97: \*\*missed\*\* \|$/m,
    );
  });

  it("names a line that could not be measured, with the reason", () => {
    assert.match(
      linesMarkdown(LINES),
      /^\| deno-2\.2\.15 \| — \| \*\*not measured\*\* \| \*\*not measured\*\* \| \/cache\/deno is missing \|$/m,
    );
  });

  it("docs/figures.md: one row per line and handler, both paths, and the missing line", () => {
    const results = {
      date: "2026-12-05T00:00:00Z",
      command: "npm run bench",
      versions: { deno: "2.9.5", bun: "1.4.5", library: "abc1234" },
      shutdown: [],
      lines: LINES,
    };
    const text = latest.tables!.lines!(results);
    assert.match(text, /^\| Deno 2\.9\.5 \(pinned\) +\| plain +\| 0\.920 +\| 0\.980 +\|$/m);
    assert.match(text, /^\| Bun 1\.4\.5 \(pinned\) +\| hono +\| 0\.950 +\| — +\|$/m);
    assert.match(text, /^\| deno-2\.2\.15 +\| not measured +\| — +\| — +\|$/m);
    assert.match(text, /3 rounds of 3 s per case/);
  });

  it("refuses a results file without per-line figures, naming it", () => {
    assert.throws(
      () => latest.tables!.lines!({ date: "", command: "", versions: {}, shutdown: [] }),
      /bench\/results\/latest\.json has no per-line figures/,
    );
  });
});
