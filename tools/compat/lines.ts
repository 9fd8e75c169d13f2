// The runtime release lines the library is tested on, and where each one's real binary lives.
//
// The pinned lines are the project's own devDependencies (node_modules); the older ones are
// installed from npm by tools/compat/install.ts into a cache outside node_modules:
// `${GRACEFUL_RUNTIMES:-$HOME/.cache/graceful-serve/runtimes}/<runtime>-<version>/`.

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** A runtime the servers under test can run on. */
export type RuntimeName = "deno" | "bun";

/** One release line. */
export interface RuntimeLine {
  /** `<runtime>-<version>`, also the cache folder's name. */
  readonly name: string;
  readonly runtime: RuntimeName;
  readonly version: string;
  /** Whether this is the project's own pinned release (node_modules), not a cached one. */
  readonly pinned: boolean;
  /** The folder whose node_modules holds the runtime's npm package (the repository for pinned ones). */
  readonly prefix: string;
  /** The real binary (never a `.bin/` wrapper: the Node wrapper of `deno` does not forward signals). */
  readonly binary: string;
}

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** The older releases tested besides the pinned ones: the previous LTS lines and minor lines. */
const _OLDER: Record<RuntimeName, readonly string[]> = {
  deno: ["2.2.15", "2.5.7"],
  bun: ["1.2.23", "1.3.14"],
};

/** Where each runtime's npm package keeps its real binary, relative to its node_modules. */
const _BINARY: Record<RuntimeName, string> = {
  deno: join("deno", "deno"),
  bun: join("bun", "bin", "bun.exe"),
};

/** The cache folder of the older releases. */
export function cacheRoot(): string {
  const configured = process.env.GRACEFUL_RUNTIMES;
  return configured !== undefined && configured !== ""
    ? configured
    : join(homedir(), ".cache", "graceful-serve", "runtimes");
}

/** The version package.json pins for `runtime` (its devDependency). */
function _pinnedVersion(runtime: RuntimeName): string {
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

/** Every line, older ones first, Deno before Bun. */
export function runtimeLines(): RuntimeLine[] {
  const lines: RuntimeLine[] = [];
  for (const runtime of ["deno", "bun"] as const) {
    for (const version of _OLDER[runtime]) {
      const name = `${runtime}-${version}`;
      const prefix = join(cacheRoot(), name);
      lines.push({
        name,
        runtime,
        version,
        pinned: false,
        prefix,
        binary: join(prefix, "node_modules", _BINARY[runtime]),
      });
    }
    const version = _pinnedVersion(runtime);
    lines.push({
      name: `${runtime}-${version}`,
      runtime,
      version,
      pinned: true,
      prefix: ROOT,
      binary: join(ROOT, "node_modules", _BINARY[runtime]),
    });
  }
  return lines;
}
