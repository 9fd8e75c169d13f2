// Runs every runtime repro in this folder on every line of its runtime (tools/compat/lines.ts;
// the older lines must be installed: tools/compat/install.ts) and prints each one's RESULT line.
//
//   node_modules/deno/deno run -A tests/compat/repros/run_all.ts            (about a minute)
//   node_modules/deno/deno run -A tests/compat/repros/run_all.ts --slow     (+ load and Chromium)

import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeLines } from "../../../tools/compat/lines.ts";

const DIR = fileURLToPath(new URL(".", import.meta.url));
/** Repros that take long or need Chromium: only with --slow. */
const SLOW: Record<string, readonly string[]> = {
  "deno_keepalive_load.ts": [],
  "deno_ws_double_close.ts": ["--chromium"],
};
const slow = process.argv.includes("--slow");
const pinned = runtimeLines().find((line) => line.runtime === "deno" && line.pinned)!.binary;

for (const file of readdirSync(DIR).sort()) {
  const runtime = file.startsWith("deno_") ? "deno" : file.startsWith("bun_") ? "bun" : undefined;
  if (runtime === undefined) continue;
  const variants: (readonly string[])[] = [[]];
  if (file in SLOW) {
    if (!slow) continue;
    if (SLOW[file]!.length > 0) variants.push(SLOW[file]!);
  }
  console.log(`\n${file}`);
  for (const line of runtimeLines().filter((l) => l.runtime === runtime)) {
    for (const extra of variants) {
      const result = spawnSync(pinned, ["run", "-A", `${DIR}${file}`, line.binary, ...extra], {
        encoding: "utf8",
        timeout: 120_000,
      });
      const found = (result.stdout ?? "").split("\n").filter((l) => l.startsWith("RESULT "));
      console.log(
        found.length > 0
          ? found.map((l) => `  ${l.slice(7)}`).join("\n")
          : `  ${line.name}: no RESULT (status ${result.status}): ${
            (result.stderr ?? "").trim().split("\n").at(-1)
          }`,
      );
    }
  }
}
