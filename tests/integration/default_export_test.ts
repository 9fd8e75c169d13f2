// examples/default_export.ts served by the runtime itself (`deno serve`, `deno serve --parallel`
// with two workers, `bun run`), as real child processes receiving real signals: the shutdown of
// serve() on each, never less than the runtime alone.
//
//   node_modules/.bin/deno test --allow-all tests/integration/default_export_test.ts

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { after, afterEach, describe, it } from "node:test";
import {
  BINARIES,
  connectError,
  curl,
  type Exit,
  hasClose,
  releaseBefore,
  ROOT,
  runtimeLabel,
  type RuntimeName,
  RUNTIMES,
  sleep,
  within,
} from "./_harness.ts";

const SCRIPT = "examples/default_export.ts";
const BOUNDED = { timeout: 30_000 };

/** One way of running the example: the command line and the environment it needs. */
interface Target {
  name: string;
  runtime: RuntimeName;
  args: readonly string[];
  env: Record<string, string>;
}

const DENO_SERVE = ["serve", "--allow-all", "--host", "127.0.0.1", "--port", "0"];
const TARGETS: readonly Target[] = [
  { name: "deno serve", runtime: "deno", args: [...DENO_SERVE, SCRIPT], env: {} },
  {
    name: "deno serve --parallel (2 workers)",
    runtime: "deno",
    args: [...DENO_SERVE, "--parallel", SCRIPT],
    env: { DENO_JOBS: "2" },
  },
  {
    name: "bun run",
    runtime: "bun",
    args: ["run", SCRIPT],
    env: { PORT: "0", HOSTNAME: "127.0.0.1" },
  },
];

/** A running example. */
interface Served {
  port: number;
  stderr(): string;
  /** Sends `signal` to the process itself. */
  kill(signal: "SIGTERM" | "SIGINT"): void;
  /** Resolves once the process exited and its output was read. */
  exited: Promise<Exit>;
}

const children = new Set<ChildProcess>();

function start(target: Target, env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(BINARIES[target.runtime], target.args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...target.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => (stderr += text));
  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  child.on("exit", (code, signal) => {
    exitCode = code;
    exitSignal = signal;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.on("close", () => {
      children.delete(child);
      resolve({ code: exitCode, signal: exitSignal, at: performance.now() });
    });
  });
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (text: string) => {
      stdout += text;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    exited.then((exit) => reject(new Error(`exited before listening (${exit.code}): ${stderr}`)));
  });
  return within(listening, 15_000, `${target.name} to listen`).then((port) => ({
    port,
    stderr: () => stderr,
    // process.kill, not child.kill: Deno's child.kill() misreports a trapped signal (deno#36643).
    kill: (signal) => process.kill(child.pid!, signal),
    exited,
  }));
}

/** Waits for the exit and checks its code, quoting stderr otherwise. */
async function assertExits(served: Served, code: number): Promise<void> {
  const exit = await within(served.exited, 15_000, "the process to exit");
  assert.deepEqual(
    { code: exit.code, signal: exit.signal },
    { code, signal: null },
    `exit; stderr:\n${served.stderr()}`,
  );
}

/** Resolves once the process wrote `text` to stderr `count` times. */
async function stderrHas(served: Served, text: string, count = 1): Promise<void> {
  for (let waited = 0; served.stderr().split(text).length - 1 < count; waited += 20) {
    if (waited > 10_000) {
      throw new Error(`no ${JSON.stringify(text)} on stderr:\n${served.stderr()}`);
    }
    await sleep(20);
  }
}

afterEach(() => {
  for (const child of children) child.kill("SIGKILL");
});
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

for (const target of TARGETS) {
  if (!RUNTIMES.includes(target.runtime)) continue;
  const parallel = target.args.includes("--parallel");
  const name = `${target.name} (${runtimeLabel(target.runtime)})`;
  describe(`examples/default_export.ts under ${name}`, () => {
    it(
      "a request in flight at SIGTERM completes with Connection: close; later ones are refused; exit 0",
      BOUNDED,
      async () => {
        const served = await start(target);
        const slow = curl(served.port, "/slow?ms=1500");
        await sleep(300);
        served.kill("SIGTERM");
        // The lame duck is over within 300 ms; then the listener is closed.
        await stderrHas(served, "closing the listener", parallel ? 2 : 1);
        assert.equal(await connectError(served.port), "ECONNREFUSED");
        const answer = await slow;
        assert.equal(answer.exitCode, 0, answer.error);
        assert.equal(answer.status, 200);
        assert.equal(answer.body, "slept 1500 ms");
        assert.ok(hasClose(answer.headers.get("connection")), "Connection: close in the drain");
        await assertExits(served, 0);
        // Under --parallel every worker ran its own shutdown, the idle one included.
        const reports = served.stderr().split("shutdown complete").length - 1;
        assert.equal(reports, parallel ? 2 : 1, served.stderr());
      },
    );

    it("an endless SSE stream ends with the final frame; exit 0", BOUNDED, async () => {
      const served = await start(target);
      const sse = curl(served.port, "/sse-raw");
      await sleep(300);
      served.kill("SIGTERM");
      const answer = await sse;
      assert.equal(answer.exitCode, 0, answer.error);
      assert.ok(answer.body.startsWith(": connected\n\n"), answer.body);
      assert.ok(answer.body.endsWith("retry: 1000\n\n"), answer.body);
      await assertExits(served, 0);
    });

    it(
      "a handler that hangs past the deadline is answered 503 and the exit is 1",
      BOUNDED,
      async () => {
        const served = await start(target, { SHUTDOWN_TIMEOUT_MS: "600" });
        const hang = curl(served.port, "/hang");
        await sleep(300);
        served.kill("SIGTERM");
        const answer = await hang;
        assert.equal(answer.status, 503, `${answer.error}\n${served.stderr()}`);
        // Under --parallel the other worker drained with 0: the worst code wins.
        await assertExits(served, 1);
      },
    );

    it("a second SIGTERM after the repeat window exits at once with 143", BOUNDED, async () => {
      const served = await start(target, { SHUTDOWN_TIMEOUT_MS: "20000" });
      const hang = curl(served.port, "/hang");
      await sleep(300);
      served.kill("SIGTERM");
      await stderrHas(served, "closing the listener");
      await sleep(1_200);
      served.kill("SIGTERM");
      if (parallel && target.runtime === "deno" && releaseBefore("deno", "2.5.0")) {
        // Deno 2.2.15 --parallel: once one worker finished, the second signal takes the
        // default action (the process is killed by SIGTERM, which a shell reports as 143).
        const exit = await within(served.exited, 15_000, "the process to exit");
        assert.ok(
          exit.code === 143 || exit.signal === "SIGTERM",
          `exit ${exit.code}/${exit.signal}; stderr:\n${served.stderr()}`,
        );
      } else {
        await assertExits(served, 143);
      }
      await hang;
    });
  });
}
