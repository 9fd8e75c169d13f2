// Every runnable file in examples/ is started the way its header says, on each runtime it names,
// gets a request, gets SIGTERM (or its guarded stop route), and must exit 0, so that none of them
// rots. A test fails when a file in examples/ has no case here.
//
//   node_modules/.bin/deno test --allow-all tests/integration/examples_test.ts
//
// A runtime binary missing here is a loud skip (CI installs them all); examples/kubernetes/ is
// checked by tests/unit/kubernetes_test.ts.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import process from "node:process";
import { after, afterEach, describe, it } from "node:test";
import { BINARIES, type Exit, ROOT, RUNTIMES, sleep, within } from "./_harness.ts";
import { nodeBinaries, nodeLeftOut } from "./_node.ts";

const BOUNDED = { timeout: 30_000 };

/** A running example. */
interface Running {
  port: number;
  stderr(): string;
  kill(signal: "SIGTERM"): void;
  exited: Promise<Exit>;
}

type Runner = "deno run" | "deno serve" | "bun" | "node";

/** How one example is exercised, on each way of running it. */
interface Case {
  example: string;
  runners: readonly Runner[];
  env?: Record<string, string>;
  /** Talks to the running example; resolves once it was sent SIGTERM or its stop route. */
  exercise(running: Running): Promise<void>;
}

const children = new Set<ChildProcess>();

function commandOf(runner: Runner, example: string, node: string): [string, string[]] {
  switch (runner) {
    case "deno run":
      return [BINARIES.deno, ["run", "--allow-net", "--allow-env", "--allow-read", example]];
    case "deno serve":
      return [BINARIES.deno, ["serve", "-A", "--host", "127.0.0.1", "--port", "0", example]];
    case "bun":
      return [BINARIES.bun, [example]];
    case "node":
      return [node, [example]];
  }
}

function start(command: string, args: string[], env: Record<string, string>): Promise<Running> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", PORT: "0", HOSTNAME: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => (stderr += text));
  let code: number | null = null;
  let signal: string | null = null;
  child.on("exit", (c, s) => ((code = c), (signal = s)));
  const exited = new Promise<Exit>((resolve) =>
    child.on("close", () => {
      children.delete(child);
      resolve({ code, signal, at: performance.now() });
    })
  );
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (text: string) => {
      stdout += text;
      const match = /listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    exited.then((exit) => reject(new Error(`exited before listening (${exit.code}): ${stderr}`)));
  });
  return within(listening, 15_000, `${args.at(-1)} to listen`).then((port) => ({
    port,
    stderr: () => stderr,
    // process.kill, not child.kill: Deno's child.kill() misreports a trapped signal (deno#36643).
    kill: (name) => process.kill(child.pid!, name),
    exited,
  }));
}

async function text(port: number, path: string, init?: RequestInit): Promise<[number, string]> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  return [response.status, await response.text()];
}

/** A request that is in flight when SIGTERM arrives must still get its whole answer. */
async function inFlightAtSigterm(running: Running, path: string, expected: string | RegExp) {
  const pending = text(running.port, path);
  await sleep(150);
  running.kill("SIGTERM");
  const [status, body] = await pending;
  assert.equal(status, 200);
  if (typeof expected === "string") assert.equal(body, expected);
  else assert.match(body, expected);
}

/** The stop route of the demo and the default export: guarded, then allowed. */
async function guardedStop(running: Running): Promise<void> {
  assert.deepEqual(await text(running.port, "/"), [200, "ok"]);
  assert.deepEqual(await text(running.port, "/readyz"), [200, "ready\n"]);
  // SHUTDOWN_TOKEN is set for these runs: without it, no one may stop the service.
  assert.deepEqual(await text(running.port, "/shutdown", { method: "POST" }), [403, "forbidden\n"]);
  const authorized = { method: "POST", headers: { authorization: "Bearer example-token" } };
  assert.deepEqual(await text(running.port, "/shutdown", authorized), [202, "shutting down\n"]);
}

/** An upstream for the proxy: answers after 400 ms. */
function slowUpstream(): Promise<HttpServer & { port: number }> {
  const server = createServer((request, response) => {
    setTimeout(() => response.end(`upstream saw ${request.method} ${request.url}`), 400);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(Object.assign(server, { port: typeof address === "object" ? address!.port : 0 }));
    })
  );
}

const upstream = await slowUpstream();
after(() => upstream.close());

const CASES: readonly Case[] = [
  {
    example: "examples/hono.ts",
    runners: ["deno run", "bun", "node"],
    exercise: (running) =>
      inFlightAtSigterm(running, "/slow?ms=400", "slept 400 ms (the server is shutting down)\n"),
  },
  {
    example: "examples/fetch_handler.ts",
    runners: ["deno run", "bun", "node"],
    exercise: (running) => inFlightAtSigterm(running, "/count?to=3", "1\n2\n3\n"),
  },
  {
    example: "examples/sse_chat.ts",
    runners: ["deno run", "bun"],
    async exercise(running) {
      const [status, page] = await text(running.port, "/");
      assert.equal(status, 200);
      assert.match(page, /new EventSource\("\/events"\)/);
      const events = await fetch(`http://127.0.0.1:${running.port}/events`);
      const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
      let received = "";
      while (!received.includes("data: connected")) received += (await reader.read()).value;
      const posted = await fetch(`http://127.0.0.1:${running.port}/messages`, {
        method: "POST",
        body: "hello room",
      });
      assert.equal(posted.status, 204);
      while (!received.includes("data: hello room")) received += (await reader.read()).value;
      running.kill("SIGTERM");
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        received += chunk.value;
      }
      // The stream ended cleanly with the last event, which tells EventSource to come back.
      assert.match(received, /event: restart\ndata: server restarting\n(id: .*\n)?retry: 1000\n/);
    },
  },
  {
    example: "examples/websocket.ts",
    runners: ["deno run", "bun"],
    async exercise(running) {
      assert.deepEqual(await text(running.port, "/"), [200, "serving; connect to /ws\n"]);
      const ws = new WebSocket(`ws://127.0.0.1:${running.port}/ws`);
      const messages: string[] = [];
      const closed = new Promise<number>((
        resolve,
      ) => (ws.onclose = (event) => resolve(event.code)));
      ws.onmessage = (event) => messages.push(String(event.data));
      await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
      ws.send("hi");
      while (messages.length === 0) await sleep(10);
      running.kill("SIGTERM");
      assert.equal(await within(closed, 5_000, "the socket to close"), 1001);
      assert.deepEqual(messages, ["echo: hi", "server shutting down, please reconnect"]);
    },
  },
  {
    example: "examples/proxy.ts",
    runners: ["deno run", "bun", "node"],
    env: { UPSTREAM: `http://127.0.0.1:${upstream.port}` },
    exercise: (running) => inFlightAtSigterm(running, "/a?b=1", "upstream saw GET /a?b=1"),
  },
  {
    example: "examples/node.ts",
    runners: ["node"],
    exercise: (running) => inFlightAtSigterm(running, "/slow?ms=400", "slept 400 ms\n"),
  },
  {
    example: "examples/demo.ts",
    runners: ["deno run", "bun", "node"],
    env: { SHUTDOWN_TOKEN: "example-token" },
    exercise: guardedStop,
  },
  {
    example: "examples/default_export.ts",
    runners: ["deno serve", "bun"],
    env: { SHUTDOWN_TOKEN: "example-token" },
    exercise: guardedStop,
  },
];

afterEach(() => {
  for (const child of children) child.kill("SIGKILL");
});
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

const nodes = nodeBinaries();

/** The binaries of a runner, or why it is skipped. */
function binariesOf(runner: Runner): { label: string; node: string }[] | string {
  if (runner === "node") {
    // GRACEFUL_ONLY names Deno and Bun lines (npm test's second pass, test:compat): Node sits out.
    const leftOut = nodeLeftOut();
    if (leftOut !== false) return leftOut;
    return typeof nodes === "string"
      ? nodes
      : nodes.map((node) => ({ label: `node ${node.version}`, node: node.path }));
  }
  const runtime = runner === "bun" ? "bun" : "deno";
  if (!RUNTIMES.includes(runtime)) return "GRACEFUL_ONLY leaves it out";
  if (!existsSync(BINARIES[runtime])) return `no ${runtime} binary at ${BINARIES[runtime]}`;
  return [{ label: runner, node: "" }];
}

describe("examples/", () => {
  it("has a case here for every runnable file", () => {
    const files = readdirSync(`${ROOT}examples`).filter((name) => name.endsWith(".ts"));
    assert.deepEqual(
      files.map((name) => `examples/${name}`).sort(),
      CASES.map((c) => c.example).sort(),
    );
  });

  for (const { example, runners, env = {}, exercise } of CASES) {
    for (const runner of runners) {
      const binaries = binariesOf(runner);
      if (typeof binaries === "string") {
        console.error(`SKIPPED: ${example} on ${runner}: ${binaries}`);
        it(`${example} on ${runner}`, { skip: `SKIPPED LOUDLY: ${binaries}` }, () => {});
        continue;
      }
      for (const { label, node } of binaries) {
        it(`${example} on ${label}: answers, is stopped, exits 0`, BOUNDED, async () => {
          const [command, args] = commandOf(runner, example, node);
          const running = await start(command, args, env);
          await exercise(running);
          const exit = await within(running.exited, 15_000, "the process to exit");
          assert.deepEqual(
            { code: exit.code, signal: exit.signal },
            { code: 0, signal: null },
            `exit; stderr:\n${running.stderr()}`,
          );
        });
      }
    }
  }
});
