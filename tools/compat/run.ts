// The integration suite on every supported runtime line: installs the older releases
// (tools/compat/install.ts), then runs tests/integration once per line with the servers on that
// line's binary, and prints one summary table.
//
//   npm run test:compat
//   npm run test:compat -- --only=deno-2.5.7,bun-1.3.14 --filter="keep-alive" --timeout=300
//
// Per line:
// - the runner stays `deno test` on the pinned Deno; GRACEFUL_DENO or GRACEFUL_BUN points the
//   servers at the line's binary and GRACEFUL_ONLY keeps the other runtime's tests out (see
//   tests/integration/_harness.ts);
// - on Deno lines, the tests that run Deno.serve inside the runner (deno_serve_test.ts) run a
//   second time under the line's own `deno test`, since they test the runner's Deno.
// Each run is bounded (--timeout, seconds, default 900): past it, its whole process group is
// killed and the run counts as failed, with the results seen so far.
// Logs and JUnit reports go to $TMPDIR/graceful-compat/. Exits 1 when any run failed.

import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { installLines, versionLine } from "./install.ts";
import { ROOT, type RuntimeLine, runtimeLines } from "./lines.ts";

/** One `deno test` run of a line. */
interface Run {
  line: RuntimeLine;
  /** What the run covers, for the table. */
  suite: string;
  command: [string, ...string[]];
  env: Record<string, string>;
}

/** How one run went, by leaf test (a test without steps, or a step). */
interface Outcome {
  passed: number;
  failed: number;
  skipped: number;
  /** The failed tests' names (`describe > it`). */
  failures: string[];
  durationMs: number;
  timedOut: boolean;
  /** Exit code of the runner (null when killed). */
  code: number | null;
}

const OUT = join(tmpdir(), "graceful-compat");

function _option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

function _runs(lines: readonly RuntimeLine[], pinnedDeno: string, filter?: string): Run[] {
  const runs: Run[] = [];
  const filterArgs = filter === undefined ? [] : [`--filter=${filter}`];
  for (const line of lines) {
    const env = {
      [line.runtime === "deno" ? "GRACEFUL_DENO" : "GRACEFUL_BUN"]: line.binary,
      GRACEFUL_ONLY: line.runtime,
      NO_COLOR: "1",
    };
    runs.push({
      line,
      suite: "integration",
      command: [pinnedDeno, "test", "--allow-all", ...filterArgs, "tests/integration"],
      env,
    });
    if (line.runtime === "deno") {
      runs.push({
        line,
        suite: "in-process (its own deno test)",
        command: [
          line.binary,
          "test",
          "--allow-all",
          ...filterArgs,
          "tests/integration/deno_serve_test.ts",
        ],
        env,
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

/** Where a run's log and JUnit report go, without the extension. */
function _base(run: Run): string {
  return join(OUT, `${run.line.name}-${run.suite.split(" ")[0]}`);
}

function _execute(run: Run, timeoutMs: number): Promise<Outcome> {
  const base = _base(run);
  const log = `${base}.log`;
  const junit = `${base}.xml`;
  rmSync(junit, { force: true });
  const [command, ...args] = run.command;
  // The report path goes right after `test`.
  args.splice(1, 0, `--junit-path=${junit}`);
  const startedAt = performance.now();
  // Its own process group, so that a run past its time is killed with every server it started.
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...run.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  // Written as it comes, so that a run that hangs can be watched (tail -f).
  const file = createWriteStream(log);
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
  }, timeoutMs);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      const durationMs = performance.now() - startedAt;
      file.end();
      const counts = !timedOut && existsSync(junit)
        ? _fromJunit(readFileSync(junit, "utf8"))
        : _fromConsole(output);
      resolve({ ...counts, durationMs, timedOut, code });
    });
  });
}

function _seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)} s`;
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
  const known = runtimeLines().map((line) => line.name);
  for (const name of only ?? []) {
    if (!known.includes(name)) {
      throw new TypeError(
        `test:compat: --only lists unknown line ${name}; known: ${known.join(", ")}`,
      );
    }
  }
  const lines = installLines().filter((line) => only === undefined || only.includes(line.name));
  const pinnedDeno = runtimeLines().find((line) => line.runtime === "deno" && line.pinned)!;
  mkdirSync(OUT, { recursive: true });

  const rows: { run: Run; outcome: Outcome }[] = [];
  for (const run of _runs(lines, pinnedDeno.binary, filter)) {
    console.error(`\n== ${versionLine(run.line)}: ${run.suite} (${run.line.binary})`);
    console.error(`   log: ${_base(run)}.log`);
    const outcome = await _execute(run, timeoutMs);
    rows.push({ run, outcome });
    console.error(
      `   ${outcome.passed} passed, ${outcome.failed} failed, ${outcome.skipped} skipped in ` +
        `${_seconds(outcome.durationMs)}${outcome.timedOut ? " (TIMED OUT)" : ""}`,
    );
    for (const name of outcome.failures) console.error(`   FAILED ${name}`);
  }

  const header = ["line", "suite", "passed", "failed", "skipped", "duration", "result"];
  const table = rows.map(({ run, outcome }) => [
    run.line.name + (run.line.pinned ? " (pinned)" : ""),
    run.suite,
    String(outcome.passed),
    String(outcome.failed),
    String(outcome.skipped),
    _seconds(outcome.durationMs),
    outcome.timedOut
      ? `timed out after ${_seconds(timeoutMs)}`
      : outcome.failed > 0 || outcome.code !== 0
      ? "FAIL"
      : "pass",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const format = (cells: string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(`\nServers per line; runner: ${versionLine(pinnedDeno)}`);
  console.log(format(header));
  console.log(format(widths.map((w) => "-".repeat(w))));
  for (const row of table) console.log(format(row));
  for (const { run, outcome } of rows) {
    if (outcome.failures.length === 0) continue;
    console.log(`\n${run.line.name}, ${run.suite}: failed`);
    for (const name of outcome.failures) console.log(`- ${name}`);
  }
  console.log(`\ntest:compat took ${_seconds(performance.now() - startedAt)}; logs in ${OUT}`);
  return rows.some(({ outcome }) => outcome.timedOut || outcome.failed > 0 || outcome.code !== 0)
    ? 1
    : 0;
}

if (import.meta.main) process.exit(await main());
