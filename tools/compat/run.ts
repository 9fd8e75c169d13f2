// Every supported runtime line, checked the same way: installs the lines that are not pinned
// (tools/compat/install.ts), then for each line runs
// - the integration suite with the servers on that line's binary (Node lines: the Node tests,
//   tests/integration/node_test.ts, examples_test.ts and docs_code_test.ts);
// - the keep-alive load across SIGTERM, 5 shutdowns (tools/compat/race.ts; about 10 s a line):
//   fails on any request lost on a reused connection, any bad response or exit;
// - a quick `npm run bench:corun` of the plain handler, graceful ÷ raw on the fast path and on the
//   public-API path, plus the raw-against-raw control (3 rounds of 1 s a case; 20-55 s a line):
//   only the measurement must run, its figures are reported, never asserted (a shared machine is
//   noisy; the figures of record come from full bench runs);
// and prints one summary table of the runs and one of the figures per line.
//
//   npm run test:compat                                     every line, everything (~17 min)
//   npm run test:compat -- --only=deno-2.5.7,node-22 --filter="keep-alive" --timeout=300
//   npm run test:compat -- --suites=race,bench --race-runs=10 --bench-rounds=5
//   npm run test:compat -- --skip-tests=pinned,node      (CI: npm test ran those lines' tests)
//
// Per line:
// - the runner stays `deno test` on the pinned Deno; GRACEFUL_DENO, GRACEFUL_BUN or GRACEFUL_NODE
//   points the servers at the line's binary and GRACEFUL_ONLY keeps the other runtimes' tests out
//   (see tests/integration/_harness.ts and _node.ts);
// - on Deno lines, the tests that run Deno.serve inside the runner (deno_serve_test.ts) run a
//   second time under the line's own `deno test`, since they test the runner's Deno.
// Each run is bounded (tests: --timeout, seconds, default 900; the race and the benchmark: a few
// minutes): past it, its whole process group is killed and the run counts as failed, with the
// results seen so far. --filter applies to the tests only.
// Logs, JUnit reports, the race's and the benchmark's JSON, and the summary (results.json,
// results.md) go to $TMPDIR/graceful-compat/. Exits 1 when any run failed.

import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { writeAtomically } from "../lib/results.ts";
import { installLines, versionLine } from "./install.ts";
import { ROOT, type RuntimeLine, runtimeLines } from "./lines.ts";
import type { RaceReport } from "./race.ts";

/** What a run checks. */
type Kind = "tests" | "race" | "bench";
const KINDS: readonly Kind[] = ["tests", "race", "bench"];

/** One process run for a line. */
interface Run {
  line: RuntimeLine;
  kind: Kind;
  /** What the run covers, for the table. */
  suite: string;
  /** Where its log (and report) go, without the extension. */
  base: string;
  command: [string, ...string[]];
  env: Record<string, string>;
  timeoutMs: number;
}

/** How one run went; tests are counted by leaf test (a test without steps, or a step). */
interface Outcome {
  passed: number;
  failed: number;
  skipped: number;
  /** The failed tests' names (`describe > it`), or what went wrong. */
  failures: string[];
  durationMs: number;
  timedOut: boolean;
  /** Exit code of the process (null when killed). */
  code: number | null;
  race?: RaceReport;
  bench?: BenchCase[];
}

/** One case of bench/corun.ts's results. */
interface BenchCase {
  name: string;
  runtime: string;
  ratio: { median: number; min: number; max: number };
  cpuRatio: { median: number };
}

const OUT = join(tmpdir(), "graceful-compat");
/** 3 rounds of 1 s: the least bench:corun allows, about 10 s a case. */
const BENCH_SECONDS = 1;

function _option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

function _integer(name: string, fallback: number, low: number, high: number): number {
  const raw = _option(name);
  const value = Number(raw ?? fallback);
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new RangeError(
      `test:compat: --${name} must be an integer in ${low}..${high}, received ${raw}`,
    );
  }
  return value;
}

/** The integration runs of one line. */
function _testRuns(
  line: RuntimeLine,
  pinnedDeno: string,
  filterArgs: string[],
  timeoutMs: number,
): Run[] {
  const env = { [line.env]: line.binary, GRACEFUL_ONLY: line.runtime, NO_COLOR: "1" };
  const run = (suite: string, binary: string, files: string[]): Run => {
    const base = join(OUT, `${line.name}-${suite.split(" ")[0]}`);
    return {
      line,
      kind: "tests",
      suite,
      base,
      command: [binary, "test", `--junit-path=${base}.xml`, "--allow-all", ...filterArgs, ...files],
      env,
      timeoutMs,
    };
  };
  if (line.runtime === "node") {
    return [
      run("node tests", pinnedDeno, [
        "tests/integration/node_test.ts",
        "tests/integration/examples_test.ts",
        "tests/integration/docs_code_test.ts",
      ]),
    ];
  }
  const runs = [run("integration", pinnedDeno, ["tests/integration"])];
  if (line.runtime === "deno") {
    runs.push(
      run("in-process (its own deno test)", line.binary, ["tests/integration/deno_serve_test.ts"]),
    );
  }
  return runs;
}

/** Whether `tokens` name `line`: its name, its runtime (`node`), or `pinned`. */
function _selects(line: RuntimeLine, tokens: readonly string[]): boolean {
  return tokens.some((token) =>
    token === line.name || token === line.runtime || (token === "pinned" && line.pinned)
  );
}

function _runs(
  lines: readonly RuntimeLine[],
  pinnedDeno: string,
  options: {
    kinds: readonly Kind[];
    /** Lines whose tests do not run here (their names, their runtime's, or `pinned`). */
    skipTests: readonly string[];
    filter: string | undefined;
    timeoutMs: number;
    raceRuns: number;
    benchRounds: number;
  },
): Run[] {
  const runs: Run[] = [];
  const filterArgs = options.filter === undefined ? [] : [`--filter=${options.filter}`];
  for (const line of lines) {
    if (options.kinds.includes("tests") && !_selects(line, options.skipTests)) {
      runs.push(..._testRuns(line, pinnedDeno, filterArgs, options.timeoutMs));
    }
    if (options.kinds.includes("race")) {
      const base = join(OUT, `${line.name}-race`);
      runs.push({
        line,
        kind: "race",
        suite: `keep-alive load across SIGTERM ×${options.raceRuns}`,
        base,
        // The client on CPU 1, the server on CPU 0 (race.ts pins it).
        command: [
          "taskset",
          "-c",
          "1",
          pinnedDeno,
          "run",
          "--allow-all",
          "tools/compat/race.ts",
          `--line=${line.name}`,
          `--runs=${options.raceRuns}`,
          `--out=${base}.json`,
        ],
        env: { NO_COLOR: "1" },
        timeoutMs: (60 + options.raceRuns * 20) * 1000,
      });
    }
    if (options.kinds.includes("bench")) {
      const base = join(OUT, `${line.name}-bench`);
      // The plain handler's cases: on Deno and Node the fast path, the public-API path and the
      // control; on Bun the library (public APIs only), the control and its SSE-check cases.
      const only = `${line.runtime}-plain`;
      runs.push({
        line,
        kind: "bench",
        suite: `bench:corun --only=${only}`,
        base,
        command: [
          pinnedDeno,
          "run",
          "--allow-all",
          "bench/corun.ts",
          `--rounds=${options.benchRounds}`,
          `--seconds=${BENCH_SECONDS}`,
          `--only=${only}`,
          `--out=${base}`,
        ],
        env: { [line.env]: line.binary, NO_COLOR: "1" },
        timeoutMs: (60 + options.benchRounds * 4 * 15) * 1000,
      });
    }
  }
  return runs;
}

function _unescape(text: string): string {
  return text.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/**
 * Leaf results from Deno's JUnit report: steps are reported as `parent > step` test cases, so a
 * test case that is the parent of another is not counted.
 */
function _fromJunit(xml: string): Pick<Outcome, "passed" | "failed" | "skipped" | "failures"> {
  const cases: { name: string; status: "passed" | "failed" | "skipped" }[] = [];
  const pattern = /<testcase name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const match of xml.matchAll(pattern)) {
    const body = match[3] ?? "";
    cases.push({
      name: _unescape(match[1]!),
      status: /<(failure|error)\b/.test(body)
        ? "failed"
        : /<skipped\b/.test(body)
        ? "skipped"
        : "passed",
    });
  }
  const leaves = cases.filter((c) => !cases.some((o) => o.name.startsWith(`${c.name} > `)));
  const failed = leaves.filter((c) => c.status === "failed");
  return {
    passed: leaves.filter((c) => c.status === "passed").length,
    failed: failed.length,
    skipped: leaves.filter((c) => c.status === "skipped").length,
    failures: failed.map((c) => c.name),
  };
}

/**
 * Results from the console output, for a run killed before it wrote its report: a test's own
 * line comes after its steps' (indented) lines, so a line is a leaf when no indented line
 * directly precedes it.
 */
function _fromConsole(log: string): Pick<Outcome, "passed" | "failed" | "skipped" | "failures"> {
  const outcome = { passed: 0, failed: 0, skipped: 0, failures: [] as string[] };
  let parent: string | undefined;
  let sawStep = false;
  for (const line of log.split("\n")) {
    const match = /^( *)(.+?) \.\.\. (ok|FAILED|ignored)\b/.exec(line);
    if (match === null) {
      const start = /^(\S.*) \.\.\.$/.exec(line);
      if (start) {
        parent = start[1];
        sawStep = false;
      }
      continue;
    }
    const [, indent = "", name = "", status] = match;
    if (indent === "" && sawStep) {
      sawStep = false;
      continue;
    }
    if (indent !== "") sawStep = true;
    if (status === "ok") outcome.passed++;
    else if (status === "ignored") outcome.skipped++;
    else {
      outcome.failed++;
      outcome.failures.push(indent === "" ? name : `${parent} > ${name}`);
    }
  }
  return outcome;
}

/** Runs one process, its output into `<base>.log` as it comes. */
function _spawn(
  run: Run,
): Promise<{ code: number | null; timedOut: boolean; durationMs: number; output: string }> {
  const [command, ...args] = run.command;
  const startedAt = performance.now();
  // Its own process group, so that a run past its time is killed with every server it started.
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...run.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  // Written as it comes, so that a run that hangs can be watched (tail -f).
  const file = createWriteStream(`${run.base}.log`);
  let output = "";
  const onText = (text: string): void => {
    output += text;
    file.write(text);
  };
  child.stdout!.setEncoding("utf8").on("data", onText);
  child.stderr!.setEncoding("utf8").on("data", onText);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // Already gone.
    }
  }, run.timeoutMs);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      file.end();
      resolve({ code, timedOut, durationMs: performance.now() - startedAt, output });
    });
  });
}

function _readJson<T>(path: string): T | undefined {
  return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) as T : undefined;
}

async function _execute(run: Run): Promise<Outcome> {
  const report = run.kind === "bench" ? join(run.base, "corun.json") : `${run.base}.json`;
  rmSync(run.kind === "tests" ? `${run.base}.xml` : report, { force: true });
  const { code, timedOut, durationMs, output } = await _spawn(run);
  const base = { durationMs, timedOut, code };
  const tail = output.trim().split("\n").slice(-3).join(" / ");
  if (run.kind === "tests") {
    const junit = `${run.base}.xml`;
    const counts = !timedOut && existsSync(junit)
      ? _fromJunit(readFileSync(junit, "utf8"))
      : _fromConsole(output);
    return { ...counts, ...base };
  }
  if (run.kind === "race") {
    const race = timedOut ? undefined : _readJson<RaceReport>(report);
    if (race === undefined) {
      return { passed: 0, failed: 1, skipped: 0, failures: [`no report: ${tail}`], ...base };
    }
    const failedRuns = race.details.filter((r) =>
      r.lost.reused > 0 || r.badResponses > 0 || r.exit.killed || r.exit.code !== 0
    );
    return {
      passed: race.runs - failedRuns.length,
      failed: failedRuns.length,
      skipped: 0,
      failures: failedRuns.map((r) =>
        `shutdown #${r.rep + 1}: ${r.lost.reused} lost on reused connections, ${r.badResponses} ` +
        `bad responses, exit ${r.exit.killed ? "killed" : r.exit.code}`
      ),
      race,
      ...base,
    };
  }
  const bench = timedOut ? undefined : _readJson<{ results: BenchCase[] }>(report)?.results;
  if (bench === undefined || code !== 0) {
    return { passed: 0, failed: 1, skipped: 0, failures: [`bench:corun failed: ${tail}`], ...base };
  }
  // No case for this runtime: said in both tables, not a failure of the line.
  const skipped = bench.length === 0 ? 1 : 0;
  return { passed: bench.length, failed: 0, skipped, failures: [], bench, ...base };
}

function _seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)} s`;
}

function _failed(outcome: Outcome): boolean {
  return outcome.timedOut || outcome.failed > 0 || outcome.code !== 0;
}

/** A markdown table, padded. */
function _table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const format = (cells: string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [format(header), format(widths.map((w) => "-".repeat(w))), ...rows.map(format)]
    .join("\n");
}

/** graceful ÷ raw, requests served in the same seconds (CPU per request in brackets). */
function _ratio(c: BenchCase | undefined): string {
  return c === undefined
    ? "-"
    : `${c.ratio.median.toFixed(2)} (${c.ratio.min.toFixed(2)}–${c.ratio.max.toFixed(2)}; CPU ${
      c.cpuRatio.median.toFixed(2)
    })`;
}

/** The benchmark columns of one line: fast path, public-API path, raw ÷ raw control. */
function _benchCells(line: RuntimeLine, cases: BenchCase[] | undefined): string[] {
  if (cases === undefined) return ["-", "-", "-"];
  if (cases.length === 0) return [`no ${line.runtime} case in bench:corun`, "-", "-"];
  const named = (suffix: string): BenchCase | undefined =>
    cases.find((c) => c.name === `${line.runtime}-plain${suffix}`);
  const control = cases.find((c) => c.name.endsWith(" control"));
  if (line.runtime !== "bun") {
    return [_ratio(named("")), _ratio(named(" public API")), _ratio(control)];
  }
  // Bun: the library reads no runtime internals, its only path is on public APIs.
  const library = named("");
  return ["none (public APIs only)", _ratio(library), _ratio(control)];
}

function _raceCell(race: RaceReport | undefined): string {
  if (race === undefined) return "-";
  const exits = race.runs - race.badExits;
  return `${race.lostReused} lost on reused, ${race.badResponses} bad; ${race.ok} answered ` +
    `(${race.okAfterSigterm} after SIGTERM); ${race.lostFresh} reset at the listener close; exit 0 ` +
    `${exits}/${race.runs}, ≤ ${Math.round(race.maxExitMs)} ms`;
}

async function main(): Promise<number> {
  const startedAt = performance.now();
  const only = _option("only")?.split(",");
  const filter = _option("filter");
  const timeoutMs = Number(_option("timeout") ?? "900") * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(
      `test:compat: --timeout must be a number of seconds > 0, received ${_option("timeout")}`,
    );
  }
  const kinds = (_option("suites")?.split(",") ?? [...KINDS]) as Kind[];
  for (const kind of kinds) {
    if (!KINDS.includes(kind)) {
      throw new TypeError(
        `test:compat: --suites lists unknown suite ${kind}; known: ${KINDS.join(", ")}`,
      );
    }
  }
  const skipTests = _option("skip-tests")?.split(",") ?? [];
  const raceRuns = _integer("race-runs", 5, 1, 50);
  const benchRounds = _integer("bench-rounds", 3, 3, 31);
  const known = runtimeLines().map((line) => line.name);
  for (const name of only ?? []) {
    if (!known.includes(name)) {
      throw new TypeError(
        `test:compat: --only lists unknown line ${name}; known: ${known.join(", ")}`,
      );
    }
  }
  for (const token of skipTests) {
    if (!runtimeLines().some((line) => _selects(line, [token]))) {
      throw new TypeError(
        `test:compat: --skip-tests lists ${token}, which is no line, runtime or "pinned"; ` +
          `lines: ${known.join(", ")}`,
      );
    }
  }
  const lines = installLines().filter((line) => only === undefined || only.includes(line.name));
  const pinnedDeno = runtimeLines().find((line) => line.runtime === "deno" && line.pinned)!;
  mkdirSync(OUT, { recursive: true });

  const rows: { run: Run; outcome: Outcome }[] = [];
  const options = { kinds, skipTests, filter, timeoutMs, raceRuns, benchRounds };
  for (const run of _runs(lines, pinnedDeno.binary, options)) {
    console.error(`\n== ${versionLine(run.line)}: ${run.suite} (${run.line.binary})`);
    console.error(`   log: ${run.base}.log`);
    const outcome = await _execute(run);
    rows.push({ run, outcome });
    console.error(
      `   ${outcome.passed} passed, ${outcome.failed} failed, ${outcome.skipped} skipped in ` +
        `${_seconds(outcome.durationMs)}${outcome.timedOut ? " (TIMED OUT)" : ""}`,
    );
    for (const name of outcome.failures) console.error(`   FAILED ${name}`);
  }

  const label = (line: RuntimeLine): string => line.name + (line.pinned ? " (pinned)" : "");
  const runsTable = _table(
    ["line", "suite", "passed", "failed", "skipped", "duration", "result"],
    rows.map(({ run, outcome }) => [
      label(run.line),
      run.suite,
      String(outcome.passed),
      String(outcome.failed),
      String(outcome.skipped),
      _seconds(outcome.durationMs),
      outcome.timedOut
        ? `timed out after ${_seconds(run.timeoutMs)}`
        : _failed(outcome)
        ? "FAIL"
        : run.kind === "bench" && outcome.bench?.length === 0
        ? `SKIPPED: no ${run.line.runtime} case`
        : "pass",
    ]),
  );
  const perLine = lines.map((line) => {
    const mine = rows.filter((row) => row.run.line === line);
    const of = (kind: Kind) => mine.find((row) => row.run.kind === kind)?.outcome;
    return [
      label(line),
      versionLine(line),
      mine.some((row) => _failed(row.outcome)) ? "FAIL" : "pass",
      _raceCell(of("race")?.race),
      ..._benchCells(line, of("bench")?.bench),
    ];
  });
  const figuresTable = _table(
    [
      "line",
      "release",
      "result",
      `keep-alive load across SIGTERM (${raceRuns} shutdowns, 32 sockets)`,
      "graceful ÷ raw: fast path",
      "public-API path",
      "raw ÷ raw control",
    ],
    perLine,
  );
  const failures = rows.filter(({ outcome }) => outcome.failures.length > 0).map((
    { run, outcome },
  ) => [`\n${run.line.name}, ${run.suite}: failed`, ...outcome.failures.map((n) => `- ${n}`)]);
  const md = [
    `Servers per line; runner: ${versionLine(pinnedDeno)}`,
    "",
    runsTable,
    "",
    `Per line. Benchmark: requests served in the same seconds, graceful ÷ raw, plain handler, ` +
    `median (min–max) of ${benchRounds} rounds of ${BENCH_SECONDS} s, CPU per request ` +
    `graceful ÷ raw; reported, not asserted.`,
    "",
    figuresTable,
    ...(kinds.includes("tests") && skipTests.length > 0
      ? [
        "",
        `Tests not run here (--skip-tests=${skipTests.join(",")}): ${
          lines.filter((line) => _selects(line, skipTests)).map((line) => line.name).join(", ")
        }.`,
      ]
      : []),
    ...failures.flat(),
    "",
  ].join("\n");
  console.log(`\n${md}`);
  await writeAtomically(join(OUT, "results.md"), md);
  await writeAtomically(
    join(OUT, "results.json"),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        argv: process.argv.slice(2),
        runs: rows.map(({ run, outcome }) => ({
          line: run.line.name,
          release: versionLine(run.line),
          suite: run.suite,
          command: run.command,
          env: run.env,
          ...outcome,
          // The race's every run is in <line>-race.json.
          race: outcome.race && { ...outcome.race, details: undefined },
        })),
      },
      null,
      2,
    ) + "\n",
  );
  console.log(
    `\ntest:compat took ${_seconds(performance.now() - startedAt)}; logs and results ` +
      `(results.md, results.json) in ${OUT}`,
  );
  return rows.some(({ outcome }) => _failed(outcome)) ? 1 : 0;
}

if (import.meta.main) process.exit(await main());
