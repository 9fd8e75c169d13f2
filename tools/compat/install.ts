// Installs every runtime line that is not pinned (the older Deno and Bun releases, Node 22 and 24)
// from npm into the runtime cache, outside node_modules, and prints the real binary of every line
// (the pinned ones come from node_modules). Idempotent: a line whose binary already reports a
// release of that line is not installed again.
//
//   node_modules/deno/deno run --allow-all tools/compat/install.ts           one line per runtime
//   node_modules/deno/deno run --allow-all tools/compat/install.ts --json    the same, as JSON
//   node_modules/deno/deno run --allow-all tools/compat/install.ts --binaries=node
//                                                   the Node binaries, comma-separated (GRACEFUL_NODE)
//
// Cache: ${GRACEFUL_RUNTIMES:-$HOME/.cache/graceful-serve/runtimes}/<runtime>-<version>/
// (node-22, node-24 for Node). Each folder gets a package.json of its own that allows the
// runtime's install script: Bun's postinstall puts the real binary in place of a placeholder,
// Deno's links it next to bin.cjs, Node's fetches the platform's binary package.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { cacheRoot, isReleaseOf, type RuntimeLine, runtimeLines } from "./lines.ts";

/** What `<binary> --version` says, or undefined when the binary is missing or does not run. */
export function reportedVersion(line: RuntimeLine): string | undefined {
  if (!existsSync(line.binary)) return undefined;
  const result = spawnSync(line.binary, ["--version"], { encoding: "utf8", timeout: 30_000 });
  if (result.status !== 0) return undefined;
  // deno: "deno 2.5.7 (long term support, release, ...)\nv8 ..."; bun: "1.3.14"; node: "v22.23.3".
  const match = /(\d+\.\d+\.\d+)/.exec(result.stdout);
  return match?.[1];
}

/** The first line of `<binary> --version` (e.g. `deno 2.5.7 (long term support, ...)`). */
export function versionLine(line: RuntimeLine): string {
  const result = spawnSync(line.binary, ["--version"], { encoding: "utf8", timeout: 30_000 });
  const first = (result.stdout ?? "").split("\n")[0]?.trim() ?? "";
  return line.runtime === "deno" ? first : `${line.runtime} ${first}`;
}

function _npmInstall(line: RuntimeLine): void {
  const prefix = line.prefix;
  mkdirSync(prefix, { recursive: true });
  writeFileSync(
    join(prefix, "package.json"),
    JSON.stringify(
      { private: true, allowScripts: { [line.runtime]: true } },
      null,
      2,
    ) + "\n",
  );
  const args = [
    "install",
    "--prefix",
    prefix,
    "--no-audit",
    "--no-fund",
    "--save-exact",
    "--loglevel=error",
    line.spec,
  ];
  const result = spawnSync("npm", args, { stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0) {
    throw new Error(`npm ${args.join(" ")} failed with status ${result.status}`);
  }
}

/**
 * Makes sure every line's binary is there and reports a release of its line; installs the ones
 * that are not pinned and missing. Progress goes to stderr. Returns every line.
 */
export function installLines(): RuntimeLine[] {
  const lines = runtimeLines();
  for (const line of lines) {
    const found = reportedVersion(line);
    if (isReleaseOf(line, found)) continue;
    if (line.pinned) {
      throw new Error(
        `${line.binary} reports ${found ?? "nothing"}, expected ${line.version}: run npm run setup`,
      );
    }
    console.error(`installing ${line.name} into ${cacheRoot()} ...`);
    const startedAt = performance.now();
    _npmInstall(line);
    const installed = reportedVersion(line);
    if (!isReleaseOf(line, installed)) {
      throw new Error(
        `${line.binary} reports ${installed ?? "nothing"} after npm install ${line.spec}, ` +
          `expected ${line.version}${line.runtime === "node" ? ".x" : ""} (did the package's ` +
          `install script run?)`,
      );
    }
    console.error(`installed ${line.name} in ${Math.round(performance.now() - startedAt)} ms`);
  }
  return lines;
}

if (import.meta.main) {
  const binaries = process.argv.find((arg) => arg.startsWith("--binaries="))?.slice(11);
  if (binaries !== undefined && !["deno", "bun", "node"].includes(binaries)) {
    throw new TypeError(
      `install.ts: --binaries must be deno, bun or node, received ${JSON.stringify(binaries)}`,
    );
  }
  const lines = installLines();
  if (binaries !== undefined) {
    console.log(lines.filter((line) => line.runtime === binaries).map((l) => l.binary).join(","));
  } else if (process.argv.includes("--json")) {
    console.log(JSON.stringify(lines, null, 2));
  } else {
    for (const line of lines) {
      console.log(
        `${line.name.padEnd(12)} ${line.pinned ? "pinned" : "cached"}  ${line.env}=${line.binary}`,
      );
    }
  }
}
