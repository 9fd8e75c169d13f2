// Per-request cost, measured side by side: the raw server and the graceful one run at the same
// time on the same CPU, each loaded by its own wrk on the other CPU. The kernel shares CPU 0
// between the two servers, so whatever else slows the machine slows both alike, and the ratio of
// the requests they served in the same seconds is the inverse ratio of their CPU cost per
// request. One round: fresh processes, a warm-up, then `--seconds` of load.
//
//   npm run bench:corun                 9 rounds of 3 s per case (about 30 minutes)
//   npm run bench:corun -- --rounds=5   fewer rounds (3..31)
//   npm run bench:corun -- --out=DIR    results into DIR instead of bench/results/ (test:compat)
//   npm run bench:corun -- --only=TEXT  the cases whose name has TEXT
//
// Cases: each runtime and app, graceful against raw; a raw-against-raw control per runtime (what
// the method reads when both sides are the same code); and on Bun, graceful with
// `sseFinalFrame: false` against raw, and raw against raw plus the library's check for SSE
// responses alone (`response.headers.get("content-type")?.startsWith(...)`), which together split
// the library's cost there into Bun's price of that check and the rest (and of the
// `response.headers` read alone); on Deno, the path on public APIs alone per handler shape, raw
// against raw plus that path's two runtime calls (a content-type read, an `info.completed`
// reaction), alone and together, with a handler that declares the request and with a Hono app:
// Deno's price of those calls; and the public-API path against raw plus both calls: what the
// library adds beyond them.
// On Node (22.18 or later, found as tests/integration/_node.ts finds it, Node 24 first), the
// anchor is plain @hono/node-server serving the same app (bench/servers/hello_node.ts), and the
// "public API" cases switch off the read of its body cache: `npm run bench:corun -- --only=node`.
// Writes bench/results/corun.json and corun.md. Method: bench/README.md ("Side by side").

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Children } from "../tools/lib/children.ts";
import { requireTool, versionLine } from "../tools/lib/commands.ts";
import { writeAtomically } from "../tools/lib/results.ts";
import { runtimes } from "../tools/lib/runtimes.ts";
import { nodeCommand } from "../tests/integration/_node.ts";
import { cpuModel, libraryRevision } from "./lib/meta.ts";
import {
  type CaseResult,
  type Side,
  type SideBySideCase,
  sideBySideCase,
} from "./lib/side_by_side.ts";
import { prng } from "./lib/stats.ts";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const FIXTURE = join(BENCH, "servers", "hello.ts");
const SERVER_CPU = 0;
const WRK_CPU = 1;
const WARMUP_S = 1;

function parseArgs(
  args: readonly string[],
): { rounds: number; seconds: number; only: string | undefined; out: string | undefined } {
  const options = {
    rounds: 9,
    seconds: 3,
    only: undefined as string | undefined,
    out: undefined as string | undefined,
  };
  for (const arg of args) {
    const [name, value] = arg.split("=", 2) as [string, string | undefined];
    const n = Number(value);
    if (name === "--rounds" && Number.isInteger(n) && n >= 3 && n <= 31) options.rounds = n;
    else if (name === "--seconds" && Number.isInteger(n) && n >= 1 && n <= 10) options.seconds = n;
    else if (name === "--only" && value) options.only = value;
    else if (name === "--out" && value) options.out = value;
    else {
      throw new TypeError(
        `bench:corun: unknown or invalid argument ${
          JSON.stringify(arg)
        }; expected --rounds=N (3..31), --seconds=N (1..10), --only=TEXT (cases whose name has it) or --out=DIR`,
      );
    }
  }
  return options;
}

function markdown(header: string, results: CaseResult[]): string {
  const lines = [
    header,
    "",
    "| case | runtime | anchor (1.00) | compared | requests served, compared ÷ anchor (median, min–max, 95% CI of the median) | CPU per request, compared ÷ anchor (median, min–max) |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.name} | ${r.runtime} | ${r.a} | ${r.b} | **${r.ratio.median.toFixed(3)}** (${
        r.ratio.min.toFixed(3)
      }–${r.ratio.max.toFixed(3)}; ${r.rounds.length} rounds; CI ${r.ratio.low.toFixed(3)}–${
        r.ratio.high.toFixed(3)
      }) | ${r.cpuRatio.median.toFixed(3)} (${r.cpuRatio.min.toFixed(3)}–${
        r.cpuRatio.max.toFixed(3)
      }) |`,
    );
  }
  lines.push(
    "",
    "Both servers run at the same time, pinned to CPU 0; each is loaded by its own " +
      "`wrk -t1 -c50` pinned to CPU 1. Every round starts fresh processes and warms both up " +
      `for ${WARMUP_S} s. Method: bench/README.md ("Side by side").`,
    "",
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const options = parseArgs(Deno.args);
  const nproc = navigator.hardwareConcurrency;
  if (nproc < 2) throw new Error(`bench:corun: needs 2 CPUs, found ${nproc}`);
  await requireTool("bench:corun", "wrk", { args: ["--version"] });
  await requireTool("bench:corun", "taskset", { args: ["--version"], aptPackage: "util-linux" });
  const children = new Children();
  const release = children.guard("bench:corun", 15 * 60 * 1000);
  try {
    const rts = await runtimes(ROOT);
    const side = (label: string, env: Record<string, string>): Side => ({ label, env });
    const cases: SideBySideCase[] = [];
    for (const runtime of [rts.deno, rts.bun]) {
      const raw = side("raw", { MODE: "raw", APP: "plain" });
      cases.push({ name: `${runtime.name}-plain control`, runtime, a: raw, b: raw });
    }
    for (const app of ["plain", "hono"]) {
      for (const runtime of [rts.deno, rts.bun]) {
        cases.push({
          name: `${runtime.name}-${app}`,
          runtime,
          a: side(`raw ${app}`, { MODE: "raw", APP: app }),
          b: side(`graceful ${app}`, { MODE: "graceful", APP: app }),
        });
      }
    }
    for (const app of ["plain", "hono"]) {
      cases.push({
        name: `bun-${app} sseFinalFrame false`,
        runtime: rts.bun,
        a: side(`raw ${app}`, { MODE: "raw", APP: app }),
        b: side(`graceful ${app}, sseFinalFrame false`, { MODE: "graceful", APP: app, SSE: "off" }),
      });
      cases.push({
        name: `bun-${app} SSE check`,
        runtime: rts.bun,
        a: side(`raw ${app}`, { MODE: "raw", APP: app }),
        b: side(`raw ${app} + SSE check`, { MODE: "raw", APP: app, PROBE: "headers" }),
      });
      cases.push({
        name: `bun-${app} headers object`,
        runtime: rts.bun,
        a: side(`raw ${app}`, { MODE: "raw", APP: app }),
        b: side(`raw ${app} + response.headers`, { MODE: "raw", APP: app, PROBE: "getter" }),
      });
    }
    // The path on public APIs alone (Deno's internal slots switched off), each handler shape.
    for (const app of ["plain", "args", "hono"]) {
      cases.push({
        name: `deno-${app} public API`,
        runtime: rts.deno,
        a: side(`raw ${app}`, { MODE: "raw", APP: app }),
        b: side(`graceful ${app}, internals off`, {
          MODE: "graceful",
          APP: app,
          GRACEFUL_SERVE_INTERNALS: "off",
        }),
      });
    }
    // The public-API path's two calls alone on raw Deno (the same handler, plus a content-type read
    // and one `info.completed` reaction per response): the runtime's price of those calls.
    for (const app of ["args", "hono"]) {
      for (const probe of ["headers", "completed", "both"]) {
        cases.push({
          name: `deno-${app} public calls ${probe}`,
          runtime: rts.deno,
          a: side(`raw ${app}`, { MODE: "raw", APP: app }),
          b: side(`raw ${app} + ${probe}`, { MODE: "raw", APP: app, PROBE: probe }),
        });
      }
    }
    // The public-API path against raw plus its two calls: what the library adds beyond them.
    for (const app of ["plain", "hono"]) {
      cases.push({
        name: `deno-${app} public API over its calls`,
        runtime: rts.deno,
        a: side(`raw ${app} + both`, { MODE: "raw", APP: app, PROBE: "both" }),
        b: side(`graceful ${app}, internals off`, {
          MODE: "graceful",
          APP: app,
          GRACEFUL_SERVE_INTERNALS: "off",
        }),
      });
    }
    const node = nodeCommand();
    if (typeof node === "string") console.error(`!!! bench:corun: no Node cases: ${node} !!!`);
    else {
      const raw = (app: string) => side(`@hono/node-server ${app}`, { MODE: "raw", APP: app });
      cases.push({ name: "node-plain control", runtime: node, a: raw("plain"), b: raw("plain") });
      for (const app of ["plain", "hono"]) {
        cases.push({
          name: `node-${app}`,
          runtime: node,
          a: raw(app),
          b: side(`graceful ${app} + attach`, { MODE: "graceful", APP: app }),
        });
      }
      // Without the read of @hono/node-server's body cache: every response's headers are read.
      for (const app of ["plain", "hono"]) {
        cases.push({
          name: `node-${app} public API`,
          runtime: node,
          a: raw(app),
          b: side(`graceful ${app} + attach, internals off`, {
            MODE: "graceful",
            APP: app,
            GRACEFUL_SERVE_INTERNALS: "off",
          }),
        });
      }
      // @hono/node-server's price of a response.headers read, alone and in the library.
      cases.push({
        name: "node-plain headers object",
        runtime: node,
        a: raw("plain"),
        b: side("@hono/node-server plain + response.headers", {
          MODE: "raw",
          APP: "plain",
          PROBE: "getter",
        }),
      });
      cases.push({
        name: "node-plain public API sseFinalFrame false",
        runtime: node,
        a: raw("plain"),
        b: side("graceful plain + attach, internals off, sseFinalFrame false", {
          MODE: "graceful",
          APP: "plain",
          GRACEFUL_SERVE_INTERNALS: "off",
          SSE: "off",
        }),
      });
      cases.push({
        name: "node-hono serve()",
        runtime: node,
        a: raw("hono"),
        b: side("serve() hono", { MODE: "serve", APP: "hono" }),
      });
    }
    const random = prng(1);
    const results: CaseResult[] = [];
    const settings = {
      children,
      root: ROOT,
      fixture: FIXTURE,
      serverCpu: SERVER_CPU,
      wrkCpu: WRK_CPU,
      warmupS: WARMUP_S,
      seconds: options.seconds,
    };
    const log = (line: string): void => console.error(line);
    for (
      const c of cases.filter((c) => options.only === undefined || c.name.includes(options.only))
    ) {
      results.push(await sideBySideCase(settings, c, options.rounds, random, log));
    }
    const revision = await libraryRevision(ROOT);
    const argText = Deno.args.join(" ");
    const command = `npm run bench:corun${argText ? ` -- ${argText}` : ""}`;
    const wrk = await versionLine("wrk", ["-v"]);
    const header = `Measured ${new Date().toISOString()} with \`${command}\` on library revision ` +
      `${revision}: Deno ${rts.deno.version}, Bun ${rts.bun.version}` +
      `${typeof node === "string" ? "" : `, Node ${node.version}`}, ${wrk}; ` +
      `${nproc} × ${cpuModel()}, Linux ${Deno.osRelease()}; ${options.rounds} rounds of ` +
      `${options.seconds} s.`;
    const md = markdown(header, results);
    const dir = options.out ?? join(BENCH, "results");
    await Deno.mkdir(dir, { recursive: true });
    await writeAtomically(
      join(dir, "corun.json"),
      JSON.stringify({ command, revision, options, loadavg: Deno.loadavg(), results }, null, 2) +
        "\n",
    );
    await writeAtomically(join(dir, "corun.md"), md);
    console.log(md);
  } finally {
    await release();
  }
}

if (import.meta.main) await main();
