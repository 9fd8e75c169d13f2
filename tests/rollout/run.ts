// Rolling restart under load: does a restart lose requests? wrk sends GET / and POST /echo
// through nginx to two instances (or straight to one SO_REUSEPORT port); each instance in turn gets
// SIGTERM and is replaced while the load runs. Every outcome is counted: 2xx, non-2xx by status,
// and wrk's socket errors. The library (examples/demo.ts) is compared with two baselines
// (tests/rollout/servers/raw.ts): the runtime's default SIGTERM, and its own shutdown()/stop().
//
//   node_modules/.bin/deno run --allow-all tests/rollout/run.ts           full: 25 s per row,
//                                     both runtimes, every row; writes tests/rollout/results/
//   node_modules/.bin/deno run --allow-all tests/rollout/run.ts --short   CI: 7 s per row, the
//                                     library rows behind nginx plus one baseline
//   … run.ts --only=deno/reload/library-300   only the rows whose name contains the text
//
// Exits 1 when a library row behind nginx (`reload` topology) with the recommended drain delay
// failed a request (or could not run) on either runtime. Without nginx or wrk it fails when CI is set, and otherwise
// prints SKIP and exits 0. See tests/rollout/README.md.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Children } from "../../tools/lib/children.ts";
import { findTool, versionLine } from "../../tools/lib/commands.ts";
import { formatResults, writeAtomically } from "../../tools/lib/results.ts";
import { runtimeBinary, type RuntimeName } from "../../tools/lib/runtimes.ts";
import { commandLine } from "./lib/instances.ts";
import { FAIL_TIMEOUT_S, nginxConfig } from "./lib/nginx.ts";
import { details, resultTable, serverLabel } from "./lib/report.ts";
import { clientOf, type RowResult, type RowSpec, runRow } from "./lib/scenario.ts";

/**
 * The lame-duck settings the gate holds the library to: its default (`null`: DRAIN_DELAY_MS unset,
 * adaptive, at most 300 ms while requests keep arriving) and an explicit 1000 ms. nginx kept
 * sending requests to a replaced instance for about 0.1 s after its reload here
 * (tests/rollout/README.md).
 */
export const GATED_DRAIN_DELAYS: readonly (number | null)[] = [null, 1000];

const ROLLOUT = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(dirname(ROLLOUT));
const RESULTS = join(ROLLOUT, "results");

interface Mode {
  name: "full" | "short";
  durationS: number;
  restarts: number;
  rows: RowSpec[];
}

function modeFor(short: boolean): Mode {
  const runtimes: RuntimeName[] = ["deno", "bun"];
  const rows: RowSpec[] = [];
  for (const runtime of runtimes) {
    for (const drainDelayMs of [null, 0, 1000]) {
      rows.push({ runtime, topology: "reload", server: "library", drainDelayMs });
    }
    if (!short) rows.push({ runtime, topology: "reload", server: "raw-exit", drainDelayMs: 0 });
    rows.push({ runtime, topology: "reload", server: "raw-shutdown", drainDelayMs: 0 });
    if (short) continue;
    if (runtime === "deno") {
      // Controls for the reload topology: reloads alone, with each kind of client.
      for (const client of ["close", "keep-alive"] as const) {
        rows.push({ runtime, topology: "reload-only", server: "library", drainDelayMs: 0, client });
      }
    }
    // Reported, not gated: nothing takes the instance out of the proxy (same-port), and the kernel
    // resets connections queued on a closing SO_REUSEPORT socket (reuseport), so no drain delay
    // can promise zero there.
    for (const topology of ["same-port", "reuseport"] as const) {
      for (const drainDelayMs of [null, 0, 1000]) {
        rows.push({ runtime, topology, server: "library", drainDelayMs });
      }
      rows.push({ runtime, topology, server: "raw-shutdown", drainDelayMs: 0 });
    }
  }
  return short
    ? { name: "short", durationS: 7, restarts: 2, rows }
    : { name: "full", durationS: 25, restarts: 3, rows };
}

/** The rows the exit code depends on. */
function isGated(row: RowResult): boolean {
  return row.spec.server === "library" && row.spec.topology === "reload" &&
    GATED_DRAIN_DELAYS.includes(row.spec.drainDelayMs);
}

function log(line: string): void {
  console.error(line);
}

/** HEAD, plus a hash of mod.ts, src/ and examples/demo.ts when they differ from it. */
async function libraryRevision(): Promise<string> {
  try {
    const git = async (args: string[]): Promise<string> => {
      const out = await new Deno.Command("git", { args, cwd: ROOT, stderr: "null" }).output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
    };
    const head = await git(["rev-parse", "--short", "HEAD"]);
    if (!head) return "unknown";
    const dirty = await git(["status", "--porcelain", "--", "mod.ts", "src", "examples"]);
    if (!dirty) return head;
    // The working tree is what ran: name it by content.
    const files = (await git([
      "ls-files",
      "--cached",
      "--others",
      "--exclude-standard",
      "--",
      "mod.ts",
      "src",
      "examples/demo.ts",
    ])).split("\n").filter(Boolean).sort();
    const contents = await Promise.all(
      files.map((f) => Deno.readTextFile(join(ROOT, f)).catch(() => "(deleted)")),
    );
    const hash = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(files.map((f, i) => `${f}\0${contents[i]}`).join("\0")),
    );
    const hex = [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
    return `${head} + uncommitted changes (sha256 of mod.ts, src/, examples/demo.ts: ${
      hex.slice(0, 12)
    })`;
  } catch {
    return "unknown";
  }
}

/** A row's name for `--only`: `deno/reload/library-300`, `bun/reuseport/raw-shutdown`, … */
function rowName(spec: RowSpec): string {
  if (spec.topology === "reload-only") return `${spec.runtime}/reload-only/${clientOf(spec)}`;
  const server = spec.server === "library"
    ? `library-${spec.drainDelayMs ?? "default"}`
    : spec.server;
  return `${spec.runtime}/${spec.topology}/${server}`;
}

async function main(args: readonly string[]): Promise<number> {
  const only = args.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
  const unknown = args.filter((arg) => arg !== "--short" && !arg.startsWith("--only="));
  if (unknown.length) {
    log(`rollout: unknown argument ${unknown.join(" ")}; usage: run.ts [--short] [--only=TEXT]`);
    return 2;
  }
  const mode = modeFor(args.includes("--short"));
  if (only !== undefined) {
    // For investigating one scenario: the results files are left alone.
    mode.rows = mode.rows.filter((spec) => rowName(spec).includes(only));
    if (!mode.rows.length) {
      log(`rollout: no row matches --only=${only}`);
      return 2;
    }
  }

  const nginxBin = await findTool(["nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx"]);
  const wrkBin = await findTool(["wrk", "/usr/local/bin/wrk"]);
  if (!nginxBin || !wrkBin) {
    const missing = [!nginxBin && "nginx", !wrkBin && "wrk"].filter(Boolean).join(" and ");
    const message = `rollout: ${missing} not found (apt-get install -y nginx wrk)`;
    if (Deno.env.get("CI")) {
      log(`${message}; CI is set, so this is a failure`);
      return 1;
    }
    log(
      `\n${"!".repeat(72)}\n!! SKIP: ${message}\n!! The rolling-restart test did NOT run.\n${
        "!".repeat(72)
      }\n`,
    );
    return 0;
  }

  // Date.now(): the times of nginx's access log are wall-clock times.
  const children = new Children({ clock: Date.now });
  const tmp = await Deno.makeTempDir({ prefix: "graceful-rollout-" });
  // nginx's workers run as another user when the master is root: let them into the directory.
  await Deno.chmod(tmp, 0o755);
  // Bounded whatever happens: a wedged child cannot hold the run.
  const release = children.guard("rollout", mode.rows.length * (mode.durationS + 45) * 1000, {
    cleanup: () => {
      try {
        Deno.removeSync(tmp, { recursive: true });
      } catch {
        // Already gone.
      }
    },
  });

  try {
    const meta = {
      date: new Date().toISOString(),
      mode: mode.name,
      durationS: mode.durationS,
      restartsPerRow: mode.restarts,
      connections: 32,
      gatedDrainDelaysMs: GATED_DRAIN_DELAYS,
      versions: {
        deno: await versionLine(runtimeBinary(ROOT, "deno"), ["--version"]),
        bun: await versionLine(runtimeBinary(ROOT, "bun"), ["--version"]),
        nginx: await versionLine(nginxBin, ["-v"]),
        wrk: await versionLine(wrkBin, ["-v"]),
      },
      library: await libraryRevision(),
    };
    log(
      `rollout (${mode.name}): ${mode.rows.length} rows × ${mode.durationS} s, ${mode.restarts} ` +
        `restarts each; ${meta.versions.deno}, bun ${meta.versions.bun}, ${meta.versions.nginx}`,
    );

    const results: RowResult[] = [];
    for (const [i, spec] of mode.rows.entries()) {
      log(`[${i + 1}/${mode.rows.length}] ${spec.runtime}, ${spec.topology}, ${serverLabel(spec)}`);
      const dir = join(tmp, `row${i + 1}`);
      await Deno.mkdir(dir);
      const row = await runRow(spec, {
        children,
        root: ROOT,
        dir,
        nginxBin,
        wrkBin,
        luaScript: join(ROLLOUT, "mix.lua"),
        durationS: mode.durationS,
        restarts: mode.restarts,
        log,
      });
      if (mode.name === "full" && row.load && row.load.requests < 100_000) {
        row.notes.push(`only ${row.load.requests} requests (the full mode aims at ≥ 100000)`);
      }
      results.push(row);
      log(
        row.error
          ? `  did not run: ${row.error}`
          : `  ${row.load?.requests} responses, ${row.failures} failures` +
            (row.problems.length ? `; problems: ${row.problems.join("; ")}` : ""),
      );
    }

    const gated = results.filter(isGated);
    const failed = gated.filter((row) => row.error || row.failures > 0 || row.problems.length);
    const broken = results.filter((row) => row.error);
    const table = resultTable(results, isGated);
    const verdict = !gated.length
      ? `NO VERDICT: no row with the library at its default or DRAIN_DELAY_MS=1000 ` +
        `behind nginx in this selection`
      : failed.length
      ? `FAIL: the library (default drainDelay, and 1000) behind nginx lost ` +
        `requests or did not run cleanly on ${
          [...new Set(failed.map((r) => r.spec.runtime))].join(" and ")
        }`
      : broken.length
      ? `FAIL: ${broken.length} row(s) did not run`
      : `PASS: the library (default drainDelay, and 1000) behind nginx lost ` +
        `no request on ${[...new Set(gated.map((r) => r.spec.runtime))].join(" and ")}`;
    const markdown = [
      `# Rolling restart under load (${mode.name} mode)`,
      "",
      `Measured ${meta.date} with \`node_modules/.bin/deno run --allow-all tests/rollout/run.ts` +
      `${mode.name === "short" ? " --short" : ""}\` on library revision ${meta.library}: ` +
      `${meta.versions.deno}, bun ${meta.versions.bun}, ${meta.versions.nginx}, ` +
      `${meta.versions.wrk}. Each row: wrk -t1 -c32 for ${mode.durationS} s (GET / and POST /echo ` +
      `alternating), ${mode.restarts} rolling restarts (instances a, b${
        mode.restarts > 2 ? ", a" : ""
      }). nginx: one worker, upstream keepalive 32, proxy_next_upstream error, ` +
      `max_fails=1 fail_timeout=${FAIL_TIMEOUT_S}s; in the reload rows wrk sends ` +
      `\`Connection: close\` (see tests/rollout/README.md). ✓/✗ marks the rows the exit code ` +
      `depends on.`,
      "",
      table,
      "",
      `**${verdict}**`,
      "",
      "## Details",
      "",
      details(results),
    ].join("\n");
    console.log(markdown);

    if (mode.name === "full" && only === undefined) {
      await Deno.mkdir(RESULTS, { recursive: true });
      const json = {
        ...meta,
        commands: Object.fromEntries(
          mode.rows.map((spec) => [
            `${spec.runtime} ${spec.topology} ${serverLabel(spec)}`,
            commandLine({ ...spec, reusePort: spec.topology === "reuseport" }),
          ]),
        ),
        nginxConfig: nginxConfig({ dir: "<tmp>", listenPort: 0, upstreamPorts: [0, 0] }),
        verdict,
        rows: results,
      };
      await writeAtomically(join(RESULTS, "latest.json"), JSON.stringify(json, null, 2) + "\n");
      await writeAtomically(join(RESULTS, "latest.md"), markdown + "\n");
      await formatResults(ROOT, [join(RESULTS, "latest.md"), join(RESULTS, "latest.json")]);
      log(`rollout: wrote ${join("tests", "rollout", "results", "latest.{json,md}")}`);
    }
    log(verdict);
    return failed.length || broken.length ? 1 : 0;
  } finally {
    await release();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
