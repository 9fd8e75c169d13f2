// JS heap per open SSE stream on Deno and Bun: the runtime's own (raw), the least any body
// wrapper can add (floor: one more ReadableStream with a pending read), the library's wrapper, and
// what the library does on each runtime (on Deno it ends the stream in place, with no wrapper).
// Each shape runs in a fresh process, several times.
//
//   npm run bench:heap              (5 runs of 20000 streams per shape and runtime, ~1 min)
//   npm run bench:heap -- --quick   (2 runs of 5000)
//
// Writes bench/results/stream_heap.{json,md} and prints the table. Method: bench/README.md.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeAtomically } from "../tools/lib/results.ts";
import { runtimes } from "../tools/lib/runtimes.ts";
import { cpuModel, libraryRevision } from "./lib/meta.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PROBE = "bench/probes/stream_heap.ts";
const SHAPES = ["raw", "floor", "wrapper", "library"] as const;
const quick = Deno.args.includes("--quick");
const runs = quick ? 2 : 5;
const streams = quick ? 5_000 : 20_000;

const rts = await runtimes(ROOT);
const args = {
  deno: (
    n: string,
    shape: string,
  ) => ["run", "--allow-read", "--v8-flags=--expose-gc", PROBE, shape, n],
  bun: (n: string, shape: string) => [PROBE, shape, n],
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const results: Record<string, Record<string, number[]>> = {};
for (const name of ["deno", "bun"] as const) {
  results[name] = {};
  for (let run = 0; run < runs; run++) {
    // Shapes alternate within a run, so drift on the machine hits each alike.
    for (const shape of SHAPES) {
      const out = await new Deno.Command(rts[name].bin, {
        args: args[name](String(streams), shape),
        cwd: ROOT,
        stderr: "inherit",
      }).output();
      if (!out.success) throw new Error(`${name} ${shape}: probe exited ${out.code}`);
      const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop()!;
      (results[name][shape] ??= []).push(JSON.parse(line).bytesPerStream);
    }
  }
}

const rows = (["deno", "bun"] as const).map((name) => {
  const m = Object.fromEntries(SHAPES.map((s) => [s, median(results[name]![s]!)]));
  return {
    name,
    runtime: `${name} ${rts[name].version}`,
    raw: m.raw!,
    floorExtra: m.floor! - m.raw!,
    wrapperExtra: m.wrapper! - m.raw!,
    libraryExtra: m.library! - m.raw!,
    spread: Object.fromEntries(SHAPES.map((s) => [s, [
      Math.min(...results[name]![s]!),
      Math.max(...results[name]![s]!),
    ]])),
  };
});
const kib = (bytes: number): string => (bytes / 1024).toFixed(2);
const md = [
  `# JS heap per open SSE stream`,
  ``,
  `\`npm run bench:heap${quick ? " -- --quick" : ""}\` · ${new Date().toISOString()} · ` +
  `${cpuModel()} · library ${await libraryRevision(ROOT)} · ${runs} runs × ${streams} streams, ` +
  `median`,
  ``,
  `| runtime | raw stream (KiB) | floor of any wrapper: + one ReadableStream and its pending read (KiB) | the library's wrapper: extra (KiB) | the library as it runs here: extra (KiB) |`,
  `|---|---:|---:|---:|---:|`,
  ...rows.map((r) =>
    `| ${r.runtime} | ${kib(r.raw)} | +${kib(r.floorExtra)} | +${kib(r.wrapperExtra)} | ` +
    `+${kib(r.libraryExtra)} (${r.name === "deno" ? "in place" : "wrapper"}) |`
  ),
  ``,
].join("\n");
console.log(md);
if (!quick) {
  await writeAtomically(join(ROOT, "bench/results/stream_heap.md"), md);
  await writeAtomically(
    join(ROOT, "bench/results/stream_heap.json"),
    JSON.stringify({ runs, streams, rows, results }, null, 2) + "\n",
  );
}
