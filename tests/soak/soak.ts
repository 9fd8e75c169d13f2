// Soak: many shutdowns under sustained keep-alive load, on Deno and on Bun, and one long-lived
// server under load for the whole run to watch its memory.
//
//   node_modules/.bin/deno run --allow-all tests/soak/soak.ts           (60 s per runtime)
//   node_modules/.bin/deno run --allow-all tests/soak/soak.ts --short   (10 s per runtime)
//
// Per runtime, for the whole duration:
// - cycles: start tests/fixtures/soak_server.ts (serve(), lame duck 500 ms) in a child process,
//   route a bounded keep-alive client to it (node:http Agent, 6 connections), send SIGTERM after
//   a random 0.8–2.5 s of load, stop routing new requests to it 100 ms later (a load balancer
//   taking the instance out well within the lame duck), wait for its exit, start the next;
// - one long-lived server (the same fixture with CHURN_MS: it also creates and shuts down a
//   graceful() instance every 20 ms) under its own client (2 connections) from start to end, then
//   SIGTERM: it must exit 0 too.
//
// A failure is any request written to a server while it was routed that did not get a complete
// 200 response with the expected body: a reset, a closed connection, a refused connection, a
// timeout (10 s), another status or a different body. Connections are never attempted to a
// server that is not routed, so the refusals between cycles do not happen, rather than being
// excused. Every cycle must exit with code 0 and report 0 cut.
//
// Memory: the long-lived server is sampled every 2 s after a warm-up: its resident memory
// (VmRSS) and its JS heap in use right after a full collection (GET /memory; Deno runs it with
// --v8-flags=--expose-gc). Start and end are the medians of the first and last three samples.
// The heap after GC is the leak check: anything the library or the app keeps per request or per
// graceful() instance shows there; allowed growth max(4 MiB, 25 %) (seen: flat within 0.3 MiB).
// RSS is reported and held to a coarse bound, max(64 MiB, 100 %): on Deno 2.9.5 it climbs in
// steps for the first minute or two with a flat heap (allocator and V8 pages, not objects), so a
// tighter RSS bound would fail on noise.
//
// Exits 1 on any failure, any exit code other than 0, a cycle that reports cut work, or memory
// growth above a bound.
// Full mode writes tests/soak/results/latest.json and latest.md.

import http from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Child, Exit } from "../../tools/lib/child.ts";
import { Children } from "../../tools/lib/children.ts";
import { residentBytes } from "../../tools/lib/proc.ts";
import { formatResults, writeAtomically } from "../../tools/lib/results.ts";
import { type RuntimeCommand, type RuntimeName, runtimes } from "../../tools/lib/runtimes.ts";

const SHORT = Deno.args.includes("--short");
const PER_RUNTIME_MS = SHORT ? 10_000 : 60_000;
const WARMUP_MS = SHORT ? 1_500 : 5_000;
const CYCLE_WORKERS = 6;
const LONG_WORKERS = 2;
const DRAIN_DELAY_MS = 500;
const UNROUTE_AFTER_MS = 100;
const REQUEST_TIMEOUT_MS = 10_000;
const SAMPLE_EVERY_MS = 2_000;
/** Growth allowed between the first and last samples (the larger of the two bounds). */
const HEAP_GROWTH = { bytes: 4 * 1024 * 1024, ratio: 0.25 };
const RSS_GROWTH = { bytes: 64 * 1024 * 1024, ratio: 1 };

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = "tests/fixtures/soak_server.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// Child servers

/** One server of the fixture, started and listening. */
class ChildServer {
  readonly port: number;
  readonly child: Child;

  private constructor(child: Child, port: number) {
    this.child = child;
    this.port = port;
  }

  /** Starts the fixture with `env`; `flags` are runtime flags, before the script. */
  static async start(
    children: Children,
    runtime: RuntimeCommand,
    options: { env: Record<string, string>; flags?: readonly string[] },
  ): Promise<ChildServer> {
    const child = children.spawn(runtime.bin, runtime.serverArgs(FIXTURE, options.flags), {
      name: `${runtime.name} server`,
      cwd: ROOT,
      env: { NO_COLOR: "1", PORT: "0", HOSTNAME: "127.0.0.1", ...options.env },
    });
    try {
      const match = await child.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, 10_000);
      return new ChildServer(child, Number(match[1]));
    } catch (error) {
      await children.stop(child, { signal: "SIGKILL" });
      throw error;
    }
  }

  /** Resolves once the server has exited and all of its output has been read. */
  async exitedAndDrained(): Promise<Exit> {
    const exit = await this.child.exited;
    await this.child.drained;
    return exit;
  }

  /** The JS heap in use right after a full collection (GET /memory), in bytes. */
  async heapAfterGc(): Promise<number | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}/memory`);
      const memory = await response.json() as { collected: boolean; heapUsed: number };
      return memory.collected ? memory.heapUsed : undefined;
    } catch {
      return undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The load: a bounded keep-alive client that only sends to the routed server

interface Failure {
  what: string;
  error: string;
  /** Milliseconds from the target's SIGTERM (negative: before it). */
  sinceSignal: number | null;
}

class Target {
  readonly server: ChildServer;
  readonly agent: http.Agent;
  routed = true;
  signalledAt: number | null = null;
  served = 0;
  inFlight = 0;
  inFlightAtSignal = 0;
  failures: Failure[] = [];

  constructor(server: ChildServer, connections: number) {
    this.server = server;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  }
}

interface Kind {
  method: "GET" | "POST";
  path: string;
  body?: Uint8Array;
  expected: string;
}

function pickKind(): Kind {
  const roll = Math.random();
  if (roll < 0.8) return { method: "GET", path: "/", expected: "ok" };
  if (roll < 0.85) {
    const ms = 20 + Math.floor(Math.random() * 180);
    return { method: "GET", path: `/slow?ms=${ms}`, expected: `slept ${ms} ms` };
  }
  if (roll < 0.93) {
    const chunks = 1 + Math.floor(Math.random() * 8);
    return {
      method: "GET",
      path: `/stream?chunks=${chunks}&ms=10`,
      expected: Array.from({ length: chunks }, (_, i) => `chunk ${i}\n`).join(""),
    };
  }
  const body = new Uint8Array(1024 + Math.floor(Math.random() * 16_384));
  crypto.getRandomValues(body);
  return { method: "POST", path: "/echo", body, expected: "" };
}

/** One request; resolves with an error description, or undefined when it succeeded. */
function request(target: Target, kind: Kind): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (error: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(error);
    };
    const req = http.request({
      host: "127.0.0.1",
      port: target.server.port,
      method: kind.method,
      path: kind.path,
      agent: target.agent,
      headers: kind.body ? { "content-length": String(kind.body.length) } : {},
    }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      res.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
      res.on("aborted", () => finish("response aborted"));
      res.on("end", () => {
        if (res.statusCode !== 200) return finish(`status ${res.statusCode}`);
        const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const chunk of chunks) {
          body.set(chunk, at);
          at += chunk.length;
        }
        const same = kind.body
          ? body.length === kind.body.length && body.every((byte, i) => byte === kind.body![i])
          : new TextDecoder().decode(body) === kind.expected;
        finish(same ? undefined : `unexpected body (${body.length} bytes)`);
      });
    });
    const timer = setTimeout(() => {
      finish("timeout");
      req.destroy();
    }, REQUEST_TIMEOUT_MS);
    req.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    req.end(kind.body);
  });
}

/** Workers that send to whatever `current()` routes to, until `stop` is set. */
class Load {
  stop = false;
  #workers: Promise<void>[] = [];

  constructor(count: number, current: () => Target | undefined) {
    for (let i = 0; i < count; i++) this.#workers.push(this.#work(current));
  }

  async #work(current: () => Target | undefined): Promise<void> {
    while (!this.stop) {
      const target = current();
      if (target === undefined || !target.routed) {
        await sleep(5);
        continue;
      }
      const kind = pickKind();
      target.inFlight++;
      const error = await request(target, kind);
      target.inFlight--;
      if (error === undefined) {
        target.served++;
      } else {
        target.failures.push({
          what: `${kind.method} ${kind.path}`,
          error,
          sinceSignal: target.signalledAt === null
            ? null
            : Math.round(performance.now() - target.signalledAt),
        });
      }
      // A little room for the other processes on this machine.
      await sleep(1);
    }
  }

  async finish(): Promise<void> {
    this.stop = true;
    await Promise.all(this.#workers);
  }
}

// ---------------------------------------------------------------------------------------------
// One runtime

interface CycleResult {
  served: number;
  inFlightAtSignal: number;
  failures: Failure[];
  exitCode: number;
  exitSignal: string | null;
  signalToExitMs: number;
  cutReported: boolean;
}

interface RuntimeResult {
  runtime: RuntimeName;
  version: string;
  cycles: CycleResult[];
  long: {
    served: number;
    failures: Failure[];
    exitCode: number;
    churned: number | null;
    rssStart: number;
    rssEnd: number;
    rssMax: number;
    heapStart: number;
    heapEnd: number;
    /** Every sample after the warm-up: seconds since the start, RSS and heap after GC, bytes. */
    samples: { at: number; rss: number; heap: number }[];
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The library revision: the commit, with `-dirty` when the tree has changes. */
async function revision(): Promise<string> {
  try {
    const output = await new Deno.Command("git", {
      args: ["describe", "--always", "--dirty"],
      cwd: ROOT,
    }).output();
    return new TextDecoder().decode(output.stdout).trim() || "unknown";
  } catch {
    return "unknown";
  }
}

async function soak(children: Children, runtime: RuntimeCommand): Promise<RuntimeResult> {
  const started = performance.now();
  const end = started + PER_RUNTIME_MS;

  // Deno needs --expose-gc for GET /memory to collect first; Bun.gc() needs nothing.
  const long = await ChildServer.start(children, runtime, {
    env: { CHURN_MS: "20" },
    flags: runtime.name === "deno" ? ["--v8-flags=--expose-gc"] : [],
  });
  const longTarget = new Target(long, LONG_WORKERS);
  const longLoad = new Load(LONG_WORKERS, () => longTarget);
  const samples: { at: number; rss: number; heap: number }[] = [];
  const sampling = (async () => {
    await sleep(WARMUP_MS);
    while (performance.now() < end) {
      const heap = await long.heapAfterGc();
      const rss = residentBytes(long.child.pid);
      if (rss !== undefined && heap !== undefined) {
        samples.push({ at: Math.round((performance.now() - started) / 1000), rss, heap });
      }
      await sleep(SAMPLE_EVERY_MS);
    }
  })();

  const cycles: CycleResult[] = [];
  let current: Target | undefined;
  const cycleLoad = new Load(CYCLE_WORKERS, () => current);
  while (performance.now() < end - 1_000) {
    const server = await ChildServer.start(children, runtime, {
      env: { DRAIN_DELAY_MS: String(DRAIN_DELAY_MS) },
    });
    const target = new Target(server, CYCLE_WORKERS);
    current = target;
    await sleep(800 + Math.random() * 1_700);
    target.inFlightAtSignal = target.inFlight;
    target.signalledAt = performance.now();
    server.child.kill("SIGTERM");
    await sleep(UNROUTE_AFTER_MS);
    target.routed = false;
    const exit = await server.child.exitWithin(15_000);
    if (exit === undefined) server.child.kill("SIGKILL");
    const final = await server.exitedAndDrained();
    // Requests written before the unrouting have all settled by the exit (or failed).
    while (target.inFlight > 0) await sleep(5);
    target.agent.destroy();
    cycles.push({
      served: target.served,
      inFlightAtSignal: target.inFlightAtSignal,
      failures: target.failures,
      exitCode: exit === undefined ? -1 : final.code,
      exitSignal: final.signal,
      signalToExitMs: Math.round(final.at - target.signalledAt),
      cutReported: !/ 0 cut/.test(server.child.stderr),
    });
    if (final.code !== 0 || target.failures.length > 0 || !/ 0 cut/.test(server.child.stderr)) {
      console.error(`${runtime.name} cycle ${cycles.length}: exit ${final.code}; stderr:`);
      console.error(server.child.stderr);
    }
  }
  await cycleLoad.finish();
  await sampling;
  await longLoad.finish();
  longTarget.agent.destroy();
  long.child.kill("SIGTERM");
  const longExit = await long.exitedAndDrained();
  const churned = /churned (\d+) graceful/.exec(long.child.stderr)?.[1];
  const head = samples.slice(0, 3);
  const tail = samples.slice(-3);
  const first = (key: "rss" | "heap"): number => head.length ? median(head.map((x) => x[key])) : 0;
  const last = (key: "rss" | "heap"): number => tail.length ? median(tail.map((x) => x[key])) : 0;
  return {
    runtime: runtime.name,
    version: `${runtime.name} ${runtime.version}`,
    cycles,
    long: {
      served: longTarget.served,
      failures: longTarget.failures,
      exitCode: longExit.code,
      churned: churned === undefined ? null : Number(churned),
      rssStart: first("rss"),
      rssEnd: last("rss"),
      rssMax: Math.max(0, ...samples.map((x) => x.rss)),
      heapStart: first("heap"),
      heapEnd: last("heap"),
      samples,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const MiB = 1024 * 1024;

function verdict(result: RuntimeResult): string[] {
  const problems: string[] = [];
  const failures = result.cycles.reduce((n, c) => n + c.failures.length, 0) +
    result.long.failures.length;
  if (failures > 0) problems.push(`${failures} failed request(s)`);
  const badExits = result.cycles.filter((c) => c.exitCode !== 0).length;
  if (badExits > 0) problems.push(`${badExits} cycle(s) did not exit 0`);
  if (result.cycles.some((c) => c.cutReported)) problems.push("a cycle reported cut work");
  if (result.long.exitCode !== 0) problems.push(`long-lived server exited ${result.long.exitCode}`);
  if (result.cycles.length === 0) problems.push("no cycle ran");
  const { long } = result;
  if (long.samples.length < 4) problems.push("too few memory samples");
  for (
    const [what, start, end, limit] of [
      ["heap after GC", long.heapStart, long.heapEnd, HEAP_GROWTH],
      ["RSS", long.rssStart, long.rssEnd, RSS_GROWTH],
    ] as const
  ) {
    const allowed = Math.max(limit.bytes, limit.ratio * start);
    if (end - start > allowed) {
      problems.push(
        `${what} grew ${((end - start) / MiB).toFixed(1)} MiB (allowed ${
          (allowed / MiB).toFixed(1)
        } MiB)`,
      );
    }
  }
  return problems;
}

function table(results: RuntimeResult[]): string {
  const rows = [
    "| runtime | cycles | requests served (cycles) | in flight at SIGTERM (sum) | failures | exit codes | SIGTERM → exit p50 / max (ms) | long-lived: served, failures | RSS start → end (max), MiB | heap after GC start → end, MiB | graceful() instances churned | verdict |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    const exits = new Map<string, number>();
    for (const c of r.cycles) {
      const key = c.exitSignal ?? String(c.exitCode);
      exits.set(key, (exits.get(key) ?? 0) + 1);
    }
    const times = r.cycles.map((c) => c.signalToExitMs);
    const problems = verdict(r);
    rows.push(
      `| ${r.version} | ${r.cycles.length} | ${r.cycles.reduce((n, c) => n + c.served, 0)} | ` +
        `${r.cycles.reduce((n, c) => n + c.inFlightAtSignal, 0)} | ` +
        `${r.cycles.reduce((n, c) => n + c.failures.length, 0)} | ` +
        `${[...exits].map(([code, n]) => `${code}: ${n}`).join(", ")} | ` +
        `${times.length ? Math.round(median(times)) : "-"} / ${Math.max(0, ...times)} | ` +
        `${r.long.served}, ${r.long.failures.length} | ` +
        `${(r.long.rssStart / MiB).toFixed(1)} → ${(r.long.rssEnd / MiB).toFixed(1)} ` +
        `(${(r.long.rssMax / MiB).toFixed(1)}) | ` +
        `${(r.long.heapStart / MiB).toFixed(1)} → ${(r.long.heapEnd / MiB).toFixed(1)} | ` +
        `${r.long.churned ?? "-"} | ` +
        `${problems.length === 0 ? "ok" : problems.join("; ")} |`,
    );
  }
  return rows.join("\n");
}

async function main(children: Children): Promise<number> {
  const results: RuntimeResult[] = [];
  const startedAt = new Date().toISOString();
  const rts = await runtimes(ROOT);
  for (const runtime of [rts.deno, rts.bun]) {
    console.log(`soak: ${runtime.name}, ${PER_RUNTIME_MS / 1000} s${SHORT ? " (--short)" : ""}`);
    const t0 = performance.now();
    results.push(await soak(children, runtime));
    console.log(`soak: ${runtime.name} took ${Math.round(performance.now() - t0)} ms`);
  }
  const markdown = table(results);
  console.log(markdown);
  const failures = results.flatMap((r) =>
    [...r.cycles.flatMap((c) => c.failures), ...r.long.failures].map((f) => ({
      runtime: r.runtime,
      ...f,
    }))
  );
  if (failures.length > 0) console.log("failures:", JSON.stringify(failures.slice(0, 20)));
  const ok = results.every((r) => verdict(r).length === 0);
  if (!SHORT) {
    const dir = join(ROOT, "tests", "soak", "results");
    await Deno.mkdir(dir, { recursive: true });
    const meta = {
      startedAt,
      revision: await revision(),
      mode: "full",
      perRuntimeMs: PER_RUNTIME_MS,
      cycleConnections: CYCLE_WORKERS,
      longConnections: LONG_WORKERS,
      drainDelayMs: DRAIN_DELAY_MS,
      unrouteAfterMs: UNROUTE_AFTER_MS,
      heapGrowthAllowed: HEAP_GROWTH,
      rssGrowthAllowed: RSS_GROWTH,
      ok,
    };
    await writeAtomically(
      join(dir, "latest.json"),
      JSON.stringify({ ...meta, results }, null, 2) + "\n",
    );
    await writeAtomically(
      join(dir, "latest.md"),
      `# Soak results\n\nRun ${startedAt} with \`node_modules/.bin/deno run --allow-all ` +
        `tests/soak/soak.ts\` (full mode, ${PER_RUNTIME_MS / 1000} s per runtime) on library ` +
        `revision ${meta.revision}. Method, failure definition and memory bounds: the header ` +
        `of tests/soak/soak.ts; every sample is in latest.json.\n\n${markdown}\n`,
    );
    await formatResults(ROOT, [join(dir, "latest.json"), join(dir, "latest.md")]);
  }
  console.log(ok ? "soak: ok" : "soak: FAILED");
  return ok ? 0 : 1;
}

const children = new Children();
// Bounded whatever happens: each runtime's last cycle and the long-lived server's exit can take
// up to about 40 s past its share of the run.
const release = children.guard("soak", 2 * (PER_RUNTIME_MS + 90_000));
try {
  Deno.exitCode = await main(children);
} finally {
  await release();
}
