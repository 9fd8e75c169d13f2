// Dev reloads with real processes: `bun --hot` re-evaluates the app in the same process after each
// edit, `deno run --watch` restarts it. A temporary copy of a small app is edited N times (each
// edit waited for through a route that returns the version), then the runtime gets a real signal.

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  assertExit,
  BINARIES,
  cleanup,
  curl,
  type Demo,
  freePort,
  releaseBefore,
  ROOT,
  runtimeLabel,
  RUNTIMES,
  sleep,
  startProcess,
} from "./_harness.ts";

afterEach(cleanup);

/** How the app hands itself to the library (`deno-export`: `deno serve` takes the address). */
type Mode = "serve" | "attach" | "export" | "deno-export";

const EDITS = 5;
/** After the shutdown began: well within the 500 ms Deno's watcher waits for the drain. */
const SLOW_MS = 150;
/** After the shutdown began: longer than the 500 ms Deno ≥ 2.7.11's watcher waits. */
const SLOWER_MS = 1500;
/** `/sleep`, whatever happens: long enough to span an edit and a signal. */
const SLEEP_MS = 1500;

/**
 * The app: `/` answers its version; `/slow` and `/slower` answer SLOW_MS and SLOWER_MS after the
 * shutdown began, so they are in flight whenever it begins. Each version registers a hook that
 * names it. `/sleep` answers after SLEEP_MS. `attach` installs its own SIGTERM listener, as
 * graceful()'s users do.
 */
function app(mode: Mode, version: number, port: number): string {
  const mod = JSON.stringify(join(ROOT, "mod.ts"));
  const head = `import { graceful, gracefulExport, lifecycle, serve, stderrLogger } from ${mod};
const VERSION = ${version};
const life = lifecycle();
const fetch = async (request: Request): Promise<Response> => {
  const path = new URL(request.url).pathname;
  if (path === "/slow" || path === "/slower") {
    console.error("started " + path + " of version " + VERSION);
    if (!life.signal.aborted) {
      await new Promise((resolve) => life.signal.addEventListener("abort", resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, path === "/slow" ? ${SLOW_MS} : ${SLOWER_MS}));
    console.error("answered " + path + " of version " + VERSION);
    return new Response(path.slice(1) + " " + VERSION);
  }
  if (path === "/sleep") {
    console.error("started /sleep of version " + VERSION);
    await new Promise((resolve) => setTimeout(resolve, ${SLEEP_MS}));
    console.error("answered /sleep of version " + VERSION);
    return new Response("sleep " + VERSION);
  }
  return new Response("version " + VERSION);
};
const onListen = ({ url }: { url: URL }) => console.log("listening on " + url.href);
const hook = () => console.error("hook of version " + VERSION);
`;
  const options =
    `{ port: ${port}, hostname: "127.0.0.1", timeout: 5000, lifecycle: life, onListen }`;
  switch (mode) {
    case "serve":
      return head + `serve(fetch, ${options}).onShutdown(hook);\n`;
    case "export":
    case "deno-export":
      return head +
        `const server = gracefulExport(fetch, ${
          mode === "export" ? options : "{ timeout: 5000, lifecycle: life, onListen }"
        });
server.onShutdown(hook);
export default server;
void graceful;
`;
    case "attach":
      return head +
        `const g = graceful(fetch, { timeout: 5000, lifecycle: life, logger: stderrLogger });
g.onShutdown(hook);
const server = Bun.serve({ port: ${port}, hostname: "127.0.0.1", fetch: g.fetch });
g.attach(server);
if (VERSION === 1) onListen({ url: new URL("http://127.0.0.1:${port}/") });
process.on("SIGTERM", () => {
  g.shutdown({ signal: "SIGTERM" }).then((report) => process.exit(report.exitCode));
});
void serve, gracefulExport;
`;
  }
}

/** Waits until `/` answers `version <version>`: the edit took effect. */
async function reloaded(port: number, version: number, child: Demo<string>): Promise<void> {
  const until = performance.now() + 15_000;
  let last = "";
  while (performance.now() < until) {
    const got = await curl(port, "/", [], 2).catch(() => undefined);
    last = got?.body ?? "";
    if (got?.status === 200 && last === `version ${version}`) return;
    await sleep(50);
  }
  throw new Error(
    `${child.runtime}: version ${version} never answered (last: ${JSON.stringify(last)}); ` +
      `stderr:\n${child.stderr()}`,
  );
}

function count(text: string, what: string): number {
  return text.split(what).length - 1;
}

/** The copy of the app, its process, and a way to edit it in place. */
async function startEdited(
  runtime: string,
  argv: (file: string, port: number) => string[],
  mode: Mode,
): Promise<{ child: Demo<string>; port: number; edit: (version: number) => void }> {
  const dir = mkdtempSync(join(tmpdir(), "graceful-reload-"));
  const file = join(dir, "app.ts");
  const port = await freePort();
  // Written in place (same inode): a rename can make Bun 1.2's watcher lose the file.
  const edit = (version: number): void => writeFileSync(file, app(mode, version, port));
  edit(1);
  const child = await startProcess(runtime, argv(file, port));
  child.exited.finally(() => rmSync(dir, { recursive: true, force: true }));
  return { child, port, edit };
}

describe("bun --hot: a reloaded module replaces the previous instance", {
  skip: RUNTIMES.includes("bun") ? false : "GRACEFUL_ONLY leaves Bun out",
}, () => {
  for (const mode of ["serve", "export", "attach"] as const) {
    it(`${runtimeLabel("bun")}, ${mode}: after ${EDITS} edits one SIGTERM drains once, runs the last version's hooks and exits 0`, async () => {
      const { child, port, edit } = await startEdited(
        runtimeLabel("bun"),
        (file) => [BINARIES.bun, "--hot", file],
        mode,
      );
      await reloaded(port, 1, child);
      for (let version = 2; version <= EDITS + 1; version++) {
        edit(version);
        await reloaded(port, version, child);
      }
      const last = EDITS + 1;
      const slow = curl(port, "/slow");
      await child.waitForStderr(`started /slow of version ${last}`);
      child.kill("SIGTERM");
      const exit = await child.waitForExit(10_000);
      const response = await slow;
      const stderr = child.stderr();
      assert.equal(response.status, 200, `the request in flight: ${response.error}\n${stderr}`);
      assert.equal(response.body, `slow ${last}`);
      assertExit(exit, 0, child);
      assert.equal(count(stderr, "shutdown started"), 1, stderr);
      // attach: the SIGTERM listeners are the app's own, one per version, all asking one shutdown.
      if (mode !== "attach") assert.equal(count(stderr, "] SIGTERM received\n"), 1, stderr);
      assert.equal(count(stderr, "hook of version"), 1, stderr);
      assert.match(stderr, new RegExp(`hook of version ${last}\\b`));
    });

    it(`${runtimeLabel("bun")}, ${mode}: a request still running in an earlier version's code is drained too`, async () => {
      const { child, port, edit } = await startEdited(
        runtimeLabel("bun"),
        (file) => [BINARIES.bun, "--hot", file],
        mode,
      );
      await reloaded(port, 1, child);
      const sleeping = curl(port, "/sleep");
      await child.waitForStderr("started /sleep of version 1");
      edit(2);
      await reloaded(port, 2, child);
      child.kill("SIGTERM");
      const exit = await child.waitForExit(10_000);
      const response = await sleeping;
      const stderr = child.stderr();
      assert.equal(response.status, 200, `the request in flight: ${response.error}\n${stderr}`);
      assert.equal(response.body, "sleep 1");
      assert.ok(
        stderr.indexOf("shutdown started") < stderr.indexOf("answered /sleep of version 1"),
        `the request was in flight when the shutdown began:\n${stderr}`,
      );
      assertExit(exit, 0, child);
      assert.match(stderr, /hook of version 2\b/);
    });
  }
});

// Deno's watcher (cli/util/file_watcher.rs): from 2.7.7 a restart first raises SIGTERM in the
// running program and waits for it (5 s, 500 ms from 2.7.11) before dropping it; earlier
// releases drop it at once (only a synchronous `unload` event runs). From 2.8.3, Deno.exit() in
// a watched program ends that run only, so the watcher outlives a SIGTERM the program handles;
// Ctrl-C (SIGINT) is the watcher's own from 2.5.3: until 2.7.7 it exits at once, dropping the run;
// later it raises SIGINT and SIGTERM in the program, waits as for a restart, and exits.
const DRAINS_ON_RESTART = !releaseBefore("deno", "2.7.7");
const EXIT_ENDS_RUN_ONLY = !releaseBefore("deno", "2.8.3");
const WAITS_500_MS = !releaseBefore("deno", "2.7.11");
const SIGINT_DROPS_RUN = !releaseBefore("deno", "2.5.3") && releaseBefore("deno", "2.7.7");

describe("deno --watch: an edit restarts the app, a signal stops it", {
  skip: RUNTIMES.includes("deno") ? false : "GRACEFUL_ONLY leaves Deno out",
}, () => {
  const deno = runtimeLabel("deno");
  const commands = {
    "run --watch": (file: string) => [BINARIES.deno, "run", "--watch", "-A", file],
    "serve --watch": (file: string, port: number) => [
      BINARIES.deno,
      "serve",
      "--watch",
      "-A",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      file,
    ],
  };
  for (const [name, argv] of Object.entries(commands)) {
    const mode: Mode = name === "run --watch" ? "serve" : "deno-export";
    /** Starts the app, sends `path`, edits the app while it runs, and waits for the new version. */
    const acrossEdit = async (path: string) => {
      const { child, port, edit } = await startEdited(deno, argv, mode);
      await reloaded(port, 1, child);
      const request = curl(port, path);
      await child.waitForStderr(`started ${path} of version 1`);
      edit(2);
      await reloaded(port, 2, child);
      const response = await request;
      return { child, response, stderr: child.stderr() };
    };

    it(
      `${deno}, ${name}: ${
        DRAINS_ON_RESTART
          ? "a request in flight during an edit completes, and the old version's hooks run"
          : "an edit drops the request in flight with no report claiming it (no hook to drain)"
      }`,
      async () => {
        const { child, response, stderr } = await acrossEdit("/slow");
        if (DRAINS_ON_RESTART) {
          assert.equal(response.status, 200, `the request in flight: ${response.error}\n${stderr}`);
          assert.equal(response.body, "slow 1");
          const started = stderr.indexOf("shutdown started (SIGTERM received)");
          assert.ok(
            started >= 0 && started < stderr.indexOf("answered /slow of version 1"),
            `the request was in flight when the restart began:\n${stderr}`,
          );
          assert.match(stderr, /hook of version 1\b/);
          assert.match(stderr, /shutdown complete in \d+ ms: \d+ completed, 0 cut/);
        } else {
          assert.equal(response.status, 0, `Deno dropped the run: ${response.body}\n${stderr}`);
          assert.doesNotMatch(stderr, /shutdown complete|hook of version 1\b/);
        }
        child.kill("SIGINT");
        await child.waitForExit(10_000);
      },
    );

    if (WAITS_500_MS) {
      it(`${deno}, ${name}: a request longer than the watcher's 500 ms is cut by Deno, and no report counts it`, async () => {
        const { child, response, stderr } = await acrossEdit("/slower");
        assert.equal(response.status, 0, `${response.body}\n${stderr}`);
        assert.match(stderr, /shutdown started \(SIGTERM received\): 1 in flight/);
        assert.doesNotMatch(stderr, /shutdown complete|hook of version 1\b/);
        child.kill("SIGINT");
        await child.waitForExit(10_000);
      });
    }

    it(
      `${deno}, ${name}: one SIGINT (Ctrl-C) ${
        SIGINT_DROPS_RUN
          ? "ends the watcher at once, dropping the request in flight (Deno's own Ctrl-C)"
          : "drains the request in flight once and ends the watcher with 0"
      }`,
      async () => {
        const { child, port, edit } = await startEdited(deno, argv, mode);
        await reloaded(port, 1, child);
        edit(2);
        await reloaded(port, 2, child);
        const slow = curl(port, "/slow");
        await child.waitForStderr("started /slow of version 2");
        const before = count(child.stderr(), "shutdown started");
        child.kill("SIGINT");
        const exit = await child.waitForExit(10_000);
        const response = await slow;
        const stderr = child.stderr();
        assertExit(exit, 0, child);
        if (SIGINT_DROPS_RUN) {
          assert.equal(response.status, 0, `Deno dropped the run: ${response.body}\n${stderr}`);
          assert.doesNotMatch(stderr, /shutdown complete/);
          return;
        }
        assert.equal(response.status, 200, `the request in flight: ${response.error}\n${stderr}`);
        assert.equal(response.body, "slow 2");
        assert.equal(count(stderr, "shutdown started") - before, 1, stderr);
        assert.match(stderr, /hook of version 2\b/);
      },
    );

    it(
      `${deno}, ${name}: one SIGTERM drains the request in flight; ${
        EXIT_ENDS_RUN_ONLY
          ? "the watcher outlives it (Deno.exit ends the run only) until a second SIGTERM"
          : "the process exits with 0"
      }`,
      async () => {
        const { child, port } = await startEdited(deno, argv, mode);
        await reloaded(port, 1, child);
        const slow = curl(port, "/slow");
        await child.waitForStderr("started /slow of version 1");
        child.kill("SIGTERM");
        const response = await slow;
        assert.equal(response.status, 200, `the request in flight: ${response.error}`);
        assert.equal(response.body, "slow 1");
        if (EXIT_ENDS_RUN_ONLY) {
          await child.waitForStderr("Restarting on file change", 5_000);
          assert.equal(child.hasExited, false);
          // The run and its listeners are gone: the signal's default action ends the watcher.
          child.kill("SIGTERM");
          const exit = await child.waitForExit(10_000);
          assert.ok(
            exit.signal === "SIGTERM" || exit.code === 143,
            `ended by the SIGTERM: code ${exit.code}, signal ${exit.signal}`,
          );
        } else {
          assertExit(await child.waitForExit(10_000), 0, child);
        }
        assert.equal(count(child.stderr(), "shutdown started"), 1, child.stderr());
        assert.match(child.stderr(), /hook of version 1\b/);
      },
    );
  }
});
