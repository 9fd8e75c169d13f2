// Dev reloads with real processes: `bun --hot` re-evaluates the app in the same process after each
// edit, `deno run --watch` restarts it. A temporary copy of a small app is edited N times (each
// edit waited for through a route that returns the version), then the runtime gets a real signal.

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  assertExit,
  BINARIES,
  cleanup,
  curl,
  type Demo,
  ROOT,
  runtimeLabel,
  RUNTIMES,
  sleep,
  startProcess,
} from "./_harness.ts";

afterEach(cleanup);

/** How the app hands itself to the library. */
type Mode = "serve" | "attach" | "export";

const EDITS = 5;
const SLOW_MS = 300;

/**
 * The app: `/` answers its version, `/slow` after SLOW_MS; each version registers a hook that
 * names it. `attach` installs its own SIGTERM listener, as graceful()'s users do.
 */
function app(mode: Mode, version: number, port: number): string {
  const mod = JSON.stringify(join(ROOT, "mod.ts"));
  const head = `import { graceful, gracefulExport, serve, stderrLogger } from ${mod};
const VERSION = ${version};
const fetch = async (request: Request): Promise<Response> => {
  if (new URL(request.url).pathname === "/slow") {
    await new Promise((resolve) => setTimeout(resolve, ${SLOW_MS}));
    return new Response("slow " + VERSION);
  }
  return new Response("version " + VERSION);
};
const onListen = ({ url }: { url: URL }) => console.log("listening on " + url.href);
const hook = () => console.error("hook of version " + VERSION);
`;
  const options = `{ port: ${port}, hostname: "127.0.0.1", timeout: 5000, onListen }`;
  switch (mode) {
    case "serve":
      return head + `serve(fetch, ${options}).onShutdown(hook);\n`;
    case "export":
      return head + `const server = gracefulExport(fetch, ${options});
server.onShutdown(hook);
export default server;
void graceful;
`;
    case "attach":
      return head + `const g = graceful(fetch, { timeout: 5000, logger: stderrLogger });
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

/** A port free right now (Bun's hot reload finds its server again by address, so not 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
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
  argv: (file: string) => string[],
  mode: Mode,
): Promise<{ child: Demo<string>; port: number; edit: (version: number) => void }> {
  const dir = mkdtempSync(join(tmpdir(), "graceful-reload-"));
  const file = join(dir, "app.ts");
  const port = await freePort();
  // Written in place (same inode): a rename can make Bun 1.2's watcher lose the file.
  const edit = (version: number): void => writeFileSync(file, app(mode, version, port));
  edit(1);
  const child = await startProcess(runtime, argv(file));
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
      await sleep(SLOW_MS / 3);
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
  }
});
