// The peer comparison on Node: the same shutdown scenarios (bench/peers/scenarios.ts) against the
// same Hono routes (bench/peers/_app.ts) served by @hono/node-server with each graceful-shutdown
// library, by srvx's own serve(), and by this library's serve(); one fixture per peer in
// bench/peers/. Every peer × scenario records pass/fail, what the client saw, requests lost, the
// time from SIGTERM to exit and the exit.
//
//   npm run bench:peers                full: DEADLINE_MS=10000, about 6 minutes
//   npm run bench:peers -- --quick     quick (CI): DEADLINE_MS=2000, three peers, shorter
//                                      rolling restarts, nothing written; about 80 s
//
// Options: --quick; --only=<peer,…> and --scenarios=<id,…> (development aids: print the tables,
// write nothing); --node=<path> (default: Node 24 from the runtime cache, see
// tests/integration/_node.ts). Writes bench/results/peers.json and peers.md. Exits 1 only when the
// harness failed (a fixture that does not start, a client that throws): a peer failing a
// scenario is a result, not an error. Needs nginx and wrk (apt-get install -y nginx wrk).

import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Children } from "../../tools/lib/children.ts";
import { requireTool, versionLine } from "../../tools/lib/commands.ts";
import { writeAtomically } from "../../tools/lib/results.ts";
import { nodeBinaries } from "../../tests/integration/_node.ts";
import { cpuModel, libraryRevision } from "../lib/meta.ts";
import { peersMarkdown } from "./report.ts";
import { type Peer, type ScenarioContext, type ScenarioResult, SCENARIOS } from "./scenarios.ts";

const PEERS_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(dirname(PEERS_DIR));
const RESULTS = join(ROOT, "bench", "results");

/** The peers, in table order; `none` is the baseline that shows every scenario can fail. */
export const PEERS: readonly Peer[] = [
  { id: "none", label: "none (Node's default: SIGTERM kills)", script: "bench/peers/none.ts" },
  { id: "plain", label: "`server.close()` on SIGTERM, then exit", script: "bench/peers/plain.ts" },
  {
    id: "http-terminator",
    label: "http-terminator 3.2 `terminate()`",
    script: "bench/peers/http_terminator.ts",
  },
  { id: "terminus", label: "@godaddy/terminus 4.12", script: "bench/peers/terminus.ts" },
  {
    id: "close-with-grace",
    label: "close-with-grace 2.5",
    script: "bench/peers/close_with_grace.ts",
  },
  {
    id: "http-graceful-shutdown",
    label: "http-graceful-shutdown 4.0",
    script: "bench/peers/http_graceful_shutdown.ts",
  },
  { id: "srvx", label: "srvx 1.0 `gracefulShutdown`", script: "bench/peers/srvx.ts" },
  { id: "library", label: "**@graceful/serve** `serve()`", script: "bench/peers/library.ts" },
  {
    id: "library-drain-1000",
    label: "**@graceful/serve** `serve()`, `drainDelay: 1000`",
    script: "bench/peers/library.ts",
    env: { DRAIN_DELAY_MS: "1000" },
  },
];

/**
 * Quick mode (CI, about 80 s) plays every scenario on the baseline, the most used peer and the
 * library only, with a 2 s deadline, and writes nothing: the figures of record are the full run's.
 */
const QUICK_PEERS: readonly string[] = ["none", "http-terminator", "library"];

interface Options {
  quick: boolean;
  only: string[] | undefined;
  scenarios: string[] | undefined;
  node: string | undefined;
}

function _list(value: string, known: readonly string[], flag: string): string[] {
  const names = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const name of names) {
    if (!known.includes(name)) {
      throw new TypeError(`${flag} must list some of ${known.join(", ")}; received ${name}`);
    }
  }
  return names;
}

function parseArgs(args: readonly string[]): Options {
  const options: Options = { quick: false, only: undefined, scenarios: undefined, node: undefined };
  for (const arg of args) {
    if (arg === "--quick") options.quick = true;
    else if (arg.startsWith("--only=")) {
      options.only = _list(arg.slice(7), PEERS.map((p) => p.id), "--only");
    } else if (arg.startsWith("--scenarios=")) {
      options.scenarios = _list(arg.slice(12), SCENARIOS.map((s) => s.id), "--scenarios");
    } else if (arg.startsWith("--node=")) options.node = arg.slice(7);
    else {
      throw new TypeError(
        `bench/peers/run.ts: unknown argument ${arg} (expected --quick, --only=<peers>, ` +
          `--scenarios=<ids>, --node=<path>)`,
      );
    }
  }
  return options;
}

/** The Node the fixtures run on: --node, else Node 24 (else the newest) of _node.ts's list. */
function pickNode(configured: string | undefined): { path: string; version: string } {
  if (configured !== undefined) {
    const out = new Deno.Command(configured, { args: ["--version"] }).outputSync();
    const version = new TextDecoder().decode(out.stdout).trim().replace(/^v/, "");
    if (!out.success || !/^2[2-9]\./.test(version)) {
      throw new TypeError(`--node must be a Node 22 or later, received ${configured} (${version})`);
    }
    return { path: configured, version };
  }
  const found = nodeBinaries();
  if (typeof found === "string") throw new Error(`bench/peers: ${found}`);
  return found.find((b) => b.version.startsWith("24.")) ?? found.at(-1)!;
}

async function main(): Promise<number> {
  const options = parseArgs(Deno.args);
  const node = pickNode(options.node);
  await requireTool("bench/peers", "nginx", { args: ["-v"] });
  await requireTool("bench/peers", "wrk", { args: ["--version"] });
  const deadlineMs = options.quick ? 2_000 : 10_000;
  const children = new Children();
  const peers = PEERS.filter((p) =>
    options.only?.includes(p.id) ?? (!options.quick || QUICK_PEERS.includes(p.id))
  );
  const scenarios = SCENARIOS.filter((s) => options.scenarios?.includes(s.id) ?? true);
  // The budget: every scenario of every peer hanging until its kill, plus the rolling restarts.
  const budgetMs = peers.length * scenarios.length * (deadlineMs + 20_000) + 60_000;
  const release = children.guard("bench/peers", budgetMs);
  const dir = await Deno.makeTempDir({ prefix: "graceful-peers-" });
  const ctx: ScenarioContext = {
    children,
    root: ROOT,
    node: node.path,
    deadlineMs,
    killAfterMs: deadlineMs + (options.quick ? 1_500 : 3_000),
    quick: options.quick,
    nginx: "nginx",
    wrk: "wrk",
    dir,
    log: (line) => console.error(line),
  };
  const startedAt = performance.now();
  const results: ScenarioResult[] = [];
  try {
    console.error(
      `bench/peers: ${peers.length} peers × ${scenarios.length} scenarios on Node ${node.version}` +
        ` (${node.path}), deadline ${deadlineMs} ms, ${options.quick ? "quick" : "full"} mode`,
    );
    for (const scenario of scenarios) {
      for (const peer of peers) {
        const result = await scenario.run(ctx, peer);
        results.push(result);
        console.error(
          `${scenario.id.padEnd(16)} ${peer.id.padEnd(22)} ${
            result.error ? "ERROR" : result.pass ? "pass " : "FAIL "
          } ${result.error ?? result.client}`,
        );
      }
    }
  } finally {
    await release();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const elapsedS = Math.round((performance.now() - startedAt) / 1000);
  const header = {
    date: new Date().toISOString(),
    command: `npm run bench:peers${options.quick ? " -- --quick" : ""}`,
    mode: options.quick ? "quick" as const : "full" as const,
    versions: {
      node: node.version,
      nginx: await versionLine("nginx", ["-v"]),
      wrk: await versionLine("wrk", ["--version"]),
      library: await libraryRevision(ROOT),
    },
    machine: {
      nproc: navigator.hardwareConcurrency,
      cpu: cpuModel(),
      kernel: Deno.osRelease(),
    },
    deadlineMs,
    killAfterMs: ctx.killAfterMs,
    elapsedS,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
  const markdown = peersMarkdown(header, peers, scenarios, results);
  console.log(markdown);
  const errors = results.filter((r) => r.error !== undefined);
  if (!options.quick && options.only === undefined && options.scenarios === undefined) {
    const json = join(RESULTS, "peers.json");
    const md = join(RESULTS, "peers.md");
    await writeAtomically(
      json,
      JSON.stringify(
        {
          ...header,
          peers,
          scenarios: scenarios.map(({ run: _, ...s }) => s),
          results,
        },
        null,
        2,
      ) +
        "\n",
    );
    await writeAtomically(md, markdown);
    console.error(
      `bench/peers: wrote ${json} and ${md} (${elapsedS} s); \`npm run figures\` renders ` +
        `the peer tables of README.md and docs/figures.md from them`,
    );
  } else {
    console.error(`bench/peers: quick mode or a selection: nothing written (${elapsedS} s)`);
  }
  for (const error of errors) {
    console.error(
      `bench/peers: harness error in ${error.scenario} / ${error.peer}: ${error.error}`,
    );
  }
  return errors.length > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
