// The runtime release lines the library is tested on, and where each one's real binary lives.
//
// Deno and Bun: the pinned lines are the project's own devDependencies (node_modules); the older
// ones are exact releases. Node: its supported LTS lines, each the newest release of its major
// (npm's `node@22`), since Node is never a devDependency. tools/compat/install.ts installs every
// line that is not pinned from npm into a cache outside node_modules:
// `${GRACEFUL_RUNTIMES:-$HOME/.cache/graceful-serve/runtimes}/<name>/`.

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { _olderThan } from "../../src/runtime/release.ts";

/** A runtime the servers under test can run on. */
export type RuntimeName = "deno" | "bun" | "node";

/** One release line. */
export interface RuntimeLine {
  /** `<runtime>-<version>` (`deno-2.5.7`, `node-22`), also the cache folder's name. */
  readonly name: string;
  readonly runtime: RuntimeName;
  /** An exact release (`2.5.7`), or for Node a major (`22`): the newest release of that line. */
  readonly version: string;
  /** The package npm installs (`deno@2.5.7`, `node@22`). */
  readonly spec: string;
  /** Whether this is the project's own pinned release (node_modules), not a cached one. */
  readonly pinned: boolean;
  /** The folder whose node_modules holds the runtime's npm package (the repository for pinned ones). */
  readonly prefix: string;
  /** The real binary (never a `.bin/` wrapper: the Node wrapper of `deno` does not forward signals). */
  readonly binary: string;
  /** The variable that points the integration tests and benchmarks at this binary. */
  readonly env: "GRACEFUL_DENO" | "GRACEFUL_BUN" | "GRACEFUL_NODE";
}

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** The older releases tested besides the pinned ones: the previous LTS lines and minor lines. */
const _OLDER: Record<"deno" | "bun", readonly string[]> = {
  deno: ["2.2.15", "2.5.7"],
  bun: ["1.2.23", "1.3.14"],
};

/** Node's supported lines: its LTS majors. */
export const NODE_MAJORS: readonly string[] = ["22", "24"];

/** The oldest Node release supported: the first 22 that runs TypeScript by type stripping. */
export const NODE_MINIMUM = "22.18.0";

/** Where each runtime's npm package keeps its real binary, relative to its node_modules. */
const _BINARY: Record<RuntimeName, string> = {
  deno: join("deno", "deno"),
  bun: join("bun", "bin", "bun.exe"),
  node: join("node", "bin", "node"),
};

const _ENV = {
  deno: "GRACEFUL_DENO",
  bun: "GRACEFUL_BUN",
  node: "GRACEFUL_NODE",
} as const satisfies Record<RuntimeName, string>;

/** The cache folder of the lines that are not pinned. */
export function cacheRoot(): string {
  const configured = process.env.GRACEFUL_RUNTIMES;
  return configured !== undefined && configured !== ""
    ? configured
    : join(homedir(), ".cache", "graceful-serve", "runtimes");
}

/** The version package.json pins for `runtime` (its devDependency). */
function _pinnedVersion(runtime: "deno" | "bun"): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    devDependencies?: Record<string, string>;
  };
  const version = manifest.devDependencies?.[runtime];
  if (version === undefined || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new TypeError(
      `package.json must pin devDependencies.${runtime} to an exact version, received ${
        JSON.stringify(version)
      }`,
    );
  }
  return version;
}

function _cached(runtime: RuntimeName, version: string): RuntimeLine {
  const name = `${runtime}-${version}`;
  const prefix = join(cacheRoot(), name);
  return {
    name,
    runtime,
    version,
    spec: `${runtime}@${version}`,
    pinned: false,
    prefix,
    binary: join(prefix, "node_modules", _BINARY[runtime]),
    env: _ENV[runtime],
  };
}

/**
 * Whether `found` (what the binary reports, `22.23.3`) is a release of `line`: the same release,
 * or for a Node line a release of that major at or above {@linkcode NODE_MINIMUM}.
 */
export function isReleaseOf(line: RuntimeLine, found: string | undefined): boolean {
  if (found === undefined) return false;
  if (line.runtime !== "node") return found === line.version;
  return found.startsWith(`${line.version}.`) && !_olderThan(found, NODE_MINIMUM);
}

/** Every line: Deno, Bun, then Node; older ones first. */
export function runtimeLines(): RuntimeLine[] {
  const lines: RuntimeLine[] = [];
  for (const runtime of ["deno", "bun"] as const) {
    for (const version of _OLDER[runtime]) lines.push(_cached(runtime, version));
    const version = _pinnedVersion(runtime);
    lines.push({
      name: `${runtime}-${version}`,
      runtime,
      version,
      spec: `${runtime}@${version}`,
      pinned: true,
      prefix: ROOT,
      binary: join(ROOT, "node_modules", _BINARY[runtime]),
      env: _ENV[runtime],
    });
  }
  for (const major of NODE_MAJORS) lines.push(_cached("node", major));
  return lines;
}
