// The shutdown scenarios of the peer comparison: each starts one peer fixture (bench/peers/*.ts)
// on Node, drives it with a real client, sends SIGTERM and records what the client saw, whether
// the scenario passed, the requests lost, the time from SIGTERM to exit and the exit. The clients
// are the integration suite's raw HTTP/1.1 connection (tests/integration/_harness.ts), Deno's
// WebSocket, the keep-alive race pool (bench/lib/race_client.ts), and wrk through nginx
// (tests/rollout/lib/).

import { join } from "node:path";
import { Buffer } from "node:buffer";
import type { Child, Exit } from "../../tools/lib/child.ts";
import type { Children } from "../../tools/lib/children.ts";
import {
  ClosedBeforeResponse,
  outcomeOf,
  parseResponse,
  RawConnection,
  type RawResponse,
  requestHead,
  send,
} from "../../tests/integration/_harness.ts";
import { LOST, RaceClient, type RaceClientResult } from "../lib/race_client.ts";
import { prng } from "../lib/stats.ts";
import { startLoad } from "../../tests/rollout/lib/load.ts";
import { startNginx } from "../../tests/rollout/lib/nginx.ts";
import { failuresOf } from "../../tests/rollout/lib/scenario.ts";

/** A shutdown library under comparison, and the fixture that serves the routes with it. */
export interface Peer {
  id: string;
  /** For the table: the package and how it is used. */
  label: string;
  /** Relative to the repository root. */
  script: string;
  /** Added to the fixture's environment. */
  env?: Record<string, string>;
}

/** What a scenario needs to run. */
export interface ScenarioContext {
  children: Children;
  root: string;
  node: string;
  /** DEADLINE_MS given to every fixture. */
  deadlineMs: number;
  /** A process still running this long after SIGTERM is SIGKILLed ("hang until kill"). */
  killAfterMs: number;
  quick: boolean;
  nginx: string;
  wrk: string;
  /** A scratch directory of this run (nginx's files). */
  dir: string;
  log: (line: string) => void;
}

/** How one process ended after its SIGTERM. */
export interface ExitRecord {
  /** `0`, `1`, `SIGTERM` (killed by that signal, its own or ours), `SIGKILL (hung)`. */
  exit: string;
  /** SIGTERM → exit (ms); with `killed`, when it was killed. */
  sigtermToExitMs: number;
  /** It was still running `killAfterMs` after SIGTERM and was SIGKILLed. */
  killed: boolean;
}

/** One peer in one scenario. */
export interface ScenarioResult extends ExitRecord {
  scenario: string;
  peer: string;
  pass: boolean;
  /** Requests the clients lost (the scenarios that count them). */
  lost?: number;
  /** What the client saw, in words. */
  client: string;
  /** Counts and times behind the verdict. */
  details?: Record<string, unknown>;
  /** The fixture's stderr when the scenario failed or the harness broke. */
  stderr?: string;
  /** Set when the harness itself failed (the fixture did not start, a client threw…). */
  error?: string;
}

/** A scenario: an id, what passing means, and how to play it. */
export interface Scenario {
  id: string;
  title: string;
  /** What a pass requires, for the README. */
  passes: string;
  run(ctx: ScenarioContext, peer: Peer): Promise<ScenarioResult>;
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const _round = (ms: number): number => Math.round(ms);

/** Starts `peer`'s fixture on a free port; resolves with the child and its port. */
export async function startFixture(
  ctx: ScenarioContext,
  peer: Peer,
  name = peer.id,
): Promise<{ child: Child; port: number }> {
  const child = ctx.children.spawn(ctx.node, [peer.script], {
    cwd: ctx.root,
    name,
    env: {
      NO_COLOR: "1",
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      DEADLINE_MS: String(ctx.deadlineMs),
      ...peer.env,
    },
  });
  const match = await child.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, 15_000);
  return { child, port: Number(match[1]) };
}

/** Waits for the exit after a SIGTERM sent at `sigtermAt`; SIGKILLs after `killAfterMs`. */
export async function awaitExit(
  ctx: ScenarioContext,
  child: Child,
  sigtermAt: number,
): Promise<ExitRecord> {
  const left = Math.max(0, sigtermAt + ctx.killAfterMs - performance.now());
  let exit: Exit | undefined = await child.exitWithin(left);
  let killed = false;
  if (exit === undefined) {
    killed = true;
    child.kill("SIGKILL");
    exit = await child.exited;
  }
  await Promise.race([child.drained, _sleep(1_000)]);
  return {
    exit: killed ? "SIGKILL (hung)" : exit.signal !== null ? exit.signal : String(exit.code),
    sigtermToExitMs: _round(exit.at - sigtermAt),
    killed,
  };
}

/** Whether the process exited by itself within the deadline (plus scheduling slack). */
function _exitedInTime(ctx: ScenarioContext, exit: ExitRecord): boolean {
  return !exit.killed && exit.sigtermToExitMs <= ctx.deadlineMs + 1_000;
}

/** "exited by itself after N ms" or "hung: SIGKILLed after N ms", for the client column. */
function _exitWords(exit: ExitRecord): string {
  return exit.killed
    ? `process still running, SIGKILLed ${exit.sigtermToExitMs} ms after SIGTERM`
    : `exit ${exit.exit} after ${exit.sigtermToExitMs} ms`;
}

/** Describes a raw connection's outcome: the response, or how it closed before one. */
function _outcomeWords(outcome: RawResponse | ClosedBeforeResponse | Error): string {
  if (outcome instanceof ClosedBeforeResponse) {
    const how = outcome.code === null
      ? "EOF (FIN)"
      : outcome.code === "ECONNRESET"
      ? "reset (ECONNRESET)"
      : outcome.code;
    return outcome.bytes > 0
      ? `${how} after ${outcome.bytes} bytes of the response`
      : `${how}, no response`;
  }
  if (outcome instanceof Error) return `no answer (${outcome.message.split("\n")[0]})`;
  const close = /close/i.test(outcome.headers.get("connection") ?? "") ? ", Connection: close" : "";
  return `${outcome.status}${close}`;
}

/** The next response or how the connection ended; a plain Error when nothing came in `ms`. */
async function _outcome(
  connection: RawConnection,
  ms: number,
): Promise<RawResponse | ClosedBeforeResponse | Error> {
  try {
    return await outcomeOf(connection, ms);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Runs `body` against a fresh fixture; failures of the harness come back as `error`. */
async function _withFixture(
  ctx: ScenarioContext,
  scenario: string,
  peer: Peer,
  body: (child: Child, port: number) => Promise<Omit<ScenarioResult, "scenario" | "peer">>,
): Promise<ScenarioResult> {
  let child: Child | undefined;
  try {
    const started = await startFixture(ctx, peer);
    child = started.child;
    const result = await body(child, started.port);
    return {
      scenario,
      peer: peer.id,
      ...result,
      ...(result.pass ? {} : { stderr: child.stderr.trim().split("\n").slice(-10).join("\n") }),
    };
  } catch (error) {
    return {
      scenario,
      peer: peer.id,
      pass: false,
      client: "harness error",
      exit: child?.exit ? String(child.exit.code) : "?",
      sigtermToExitMs: NaN,
      killed: false,
      error: error instanceof Error ? error.message : String(error),
      ...(child ? { stderr: child.stderr.trim().split("\n").slice(-10).join("\n") } : {}),
    };
  } finally {
    if (child && !child.exit) {
      child.kill("SIGKILL");
      await child.exited;
    }
  }
}

const inFlight: Scenario = {
  id: "in-flight",
  title: "in-flight request",
  passes: "GET /slow?ms=1500 sent 300 ms before SIGTERM gets its 200 and whole body; the process " +
    "then exits by itself within the deadline",
  run: (ctx, peer) =>
    _withFixture(ctx, "in-flight", peer, async (child, port) => {
      const connection = await send(port, "GET", "/slow?ms=1500");
      await _sleep(300);
      const sigtermAt = performance.now();
      child.kill("SIGTERM");
      const outcome = await _outcome(connection, ctx.killAfterMs + 1_000);
      const exit = await awaitExit(ctx, child, sigtermAt);
      const answered = !(outcome instanceof Error) && outcome.status === 200 &&
        Buffer.from(outcome.body).toString() === "slept 1500 ms";
      return {
        ...exit,
        pass: answered && _exitedInTime(ctx, exit),
        lost: answered ? 0 : 1,
        client: `${_outcomeWords(outcome)}; ${_exitWords(exit)}`,
      };
    }),
};

/**
 * Keep-alive reuse: when, after SIGTERM, the second request is written (ms; one fresh process
 * each), and how many times each is played.
 */
const REUSE_OFFSETS_MS: readonly number[] = [0, 50];

function _reuseReps(ctx: ScenarioContext): number {
  return ctx.quick ? 1 : 3;
}

/** One keep-alive reuse: the second request written `offsetMs` after SIGTERM. */
function _reuseOnce(
  ctx: ScenarioContext,
  peer: Peer,
  offsetMs: number,
): Promise<ScenarioResult> {
  return _withFixture(ctx, "keep-alive-reuse", peer, async (child, port) => {
    const reused = await send(port, "GET", "/");
    const first = await reused.response();
    if (first.status !== 200) throw new Error(`GET / answered ${first.status} before SIGTERM`);
    // Keeps every peer draining, so that the process is still there when the request comes.
    const slow = await send(port, "GET", "/slow?ms=1000");
    await _sleep(100);
    const sigtermAt = performance.now();
    child.kill("SIGTERM");
    if (offsetMs > 0) await _sleep(offsetMs);
    const finBefore = reused.isClosed;
    let writeError = "";
    await reused.write(requestHead("GET", "/")).catch((error: NodeJS.ErrnoException) => {
      writeError = error.code ?? error.message;
    });
    const outcome = await _outcome(reused, ctx.killAfterMs + 1_000);
    const closed = await reused.closed;
    const exit = await awaitExit(ctx, child, sigtermAt);
    slow.destroy();
    const answered = !(outcome instanceof Error) && outcome.status === 200;
    const seen = writeError !== "" ? `write failed (${writeError})` : _outcomeWords(outcome);
    const fin = finBefore
      ? ` (idle connection closed ${_round(closed.at - sigtermAt)} ms after SIGTERM)`
      : "";
    return {
      ...exit,
      pass: answered && _exitedInTime(ctx, exit),
      lost: answered ? 0 : 1,
      client: `+${offsetMs} ms: ${seen}${fin}`,
    };
  });
}

const keepAliveReuse: Scenario = {
  id: "keep-alive-reuse",
  title: "keep-alive reuse in the drain",
  passes: "on a keep-alive connection that carried a response before SIGTERM, a second GET / is " +
    `written ${REUSE_OFFSETS_MS.map((ms) => `${ms} ms`).join(" or ")} after SIGTERM (one fresh ` +
    "process each; the client writes even when the server's FIN already came, as a client that " +
    "has not read it yet does) and must get a complete response (with or without Connection: " +
    "close), never an EOF or a reset; a slow request keeps the process draining meanwhile. Each " +
    "offset is played 3 times (once in quick mode); every run must pass",
  run: async (ctx, peer) => {
    const runs: ScenarioResult[] = [];
    for (const offsetMs of REUSE_OFFSETS_MS) {
      for (let rep = 0; rep < _reuseReps(ctx); rep++) {
        runs.push(await _reuseOnce(ctx, peer, offsetMs));
      }
    }
    const seen = new Map<string, number>();
    for (const r of runs) {
      const key = r.client.replace(/closed \d+ ms after/, "closed ~ms after");
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const slowest = runs.reduce((w, r) => (r.sigtermToExitMs > w.sigtermToExitMs ? r : w));
    const error = runs.find((r) => r.error !== undefined);
    const fins = runs.map((r) => /closed (\d+) ms after/.exec(r.client)?.[1]).filter((x) => x);
    return {
      ...slowest,
      pass: runs.every((r) => r.pass),
      lost: runs.reduce((total, r) => total + (r.lost ?? 0), 0),
      client: [...seen].map(([what, n]) => `${n}× ${what.replace(" ~ms", "")}`).join("; ") +
        (fins.length > 0 ? ` (FIN at ${fins.join(", ")} ms)` : "") +
        `; slowest exit: ${_exitWords(slowest)}`,
      details: { runs },
      ...(error ? { error: error.error } : {}),
    };
  },
};

/** Whether `text` (a chunked response on the wire) ended with its last chunk. */
function _chunkedComplete(received: Uint8Array): boolean {
  try {
    return parseResponse(received, true) !== undefined;
  } catch {
    return false;
  }
}

const endlessSse: Scenario = {
  id: "sse",
  title: "endless SSE",
  passes: "an endless text/event-stream response (a tick every 100 ms, the handler ignores the " +
    "shutdown) ends cleanly, with the chunked body's last chunk, and the process exits by itself " +
    "within the deadline",
  run: (ctx, peer) =>
    _withFixture(ctx, "sse", peer, async (child, port) => {
      const stream = await send(port, "GET", "/sse");
      await stream.until((text) => (text.match(/event: tick/g) ?? []).length >= 2);
      const sigtermAt = performance.now();
      child.kill("SIGTERM");
      const exit = await awaitExit(ctx, child, sigtermAt);
      const closed = await Promise.race([stream.closed, _sleep(1_000).then(() => undefined)]);
      const clean = closed !== undefined && closed.error === null &&
        _chunkedComplete(stream.received);
      const finalFrame = /retry: \d+\n\n/.test(stream.text) ? " with a retry: frame" : "";
      const how = closed === undefined
        ? "stream still open when the process was gone"
        : clean
        ? `stream ended cleanly${finalFrame} ${_round(closed.at - sigtermAt)} ms after SIGTERM`
        : `stream cut mid-body (${closed.error ?? "EOF without the last chunk"}) ` +
          `${_round(closed.at - sigtermAt)} ms after SIGTERM`;
      return {
        ...exit,
        pass: clean && _exitedInTime(ctx, exit),
        client: `${how}; ${_exitWords(exit)}`,
      };
    }),
};

/** A close code in words; Deno's CloseEvent says 0 where the spec says 1006 (no close frame). */
function _closeCode(code: number): string {
  return code === 0 || code === 1006 ? "no close frame (1006, abnormal closure)" : String(code);
}

const webSocket: Scenario = {
  id: "websocket",
  title: "WebSocket",
  passes: "an open WebSocket (@hono/node-ws, echo) is closed by the server with 1001 and the " +
    "process exits by itself within the deadline",
  run: (ctx, peer) =>
    _withFixture(ctx, "websocket", peer, async (child, port) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const closed = new Promise<{ code: number; clean: boolean; at: number }>((resolve) => {
        socket.onclose = (event) =>
          resolve({ code: event.code, clean: event.wasClean, at: performance.now() });
      });
      const echoed = new Promise<void>((resolve, reject) => {
        socket.onopen = () => socket.send("hi");
        socket.onmessage = (event) => event.data === "echo: hi" && resolve();
        socket.onerror = () => reject(new Error("the WebSocket failed before its echo"));
      });
      await Promise.race([
        echoed,
        _sleep(5_000).then(() => Promise.reject(new Error("no WebSocket echo in 5 s"))),
      ]);
      const sigtermAt = performance.now();
      child.kill("SIGTERM");
      const exit = await awaitExit(ctx, child, sigtermAt);
      const close = await Promise.race([closed, _sleep(1_000).then(() => undefined)]);
      if (close === undefined) socket.close();
      const how = close === undefined
        ? "socket still open when the process was gone"
        : `closed with ${_closeCode(close.code)} ` +
          `${_round(close.at - sigtermAt)} ms after SIGTERM`;
      return {
        ...exit,
        pass: close?.code === 1001 && _exitedInTime(ctx, exit),
        client: `${how}; ${_exitWords(exit)}`,
      };
    }),
};

const UPLOAD_BYTES = 256 * 1024;

const upload: Scenario = {
  id: "upload",
  title: "upload in flight",
  passes: `a POST /echo of ${UPLOAD_BYTES / 1024} KiB whose body is still being sent at SIGTERM ` +
    "(half before, the rest over 400 ms after) gets its 200 with the whole body echoed; the " +
    "process then exits by itself within the deadline",
  run: (ctx, peer) =>
    _withFixture(ctx, "upload", peer, async (child, port) => {
      const body = new Uint8Array(UPLOAD_BYTES);
      for (let i = 0; i < body.length; i++) body[i] = (i * 7 + 13) & 0xff;
      const connection = await RawConnection.connect(port);
      await connection.write(requestHead("POST", "/echo", {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(body.length),
      }));
      const half = body.length / 2;
      await connection.write(body.subarray(0, half));
      await _sleep(200);
      const sigtermAt = performance.now();
      child.kill("SIGTERM");
      let writeError = "";
      for (let at = half, step = half / 4; at < body.length; at += step) {
        await _sleep(100);
        try {
          await connection.write(body.subarray(at, at + step));
        } catch (error) {
          writeError = (error as NodeJS.ErrnoException).code ?? String(error);
          break;
        }
      }
      const outcome = await _outcome(connection, ctx.killAfterMs + 1_000);
      const exit = await awaitExit(ctx, child, sigtermAt);
      const answered = !(outcome instanceof Error) && outcome.status === 200 &&
        Buffer.compare(Buffer.from(outcome.body), Buffer.from(body)) === 0;
      const seen = writeError !== ""
        ? `upload write failed (${writeError}), then ${_outcomeWords(outcome)}`
        : answered
        ? "200 with the whole body echoed"
        : _outcomeWords(outcome);
      return {
        ...exit,
        pass: answered && _exitedInTime(ctx, exit),
        lost: answered ? 0 : 1,
        client: `${seen}; ${_exitWords(exit)}`,
      };
    }),
};

const hang: Scenario = {
  id: "hang",
  title: "handler hangs past the deadline",
  passes: "with a GET /hang (never answers) in flight, the process exits by itself at the " +
    "deadline (no earlier than 100 ms before it, no later than 1 s after) with a non-zero code " +
    "(a signal counts as non-zero)",
  run: (ctx, peer) =>
    _withFixture(ctx, "hang", peer, async (child, port) => {
      const connection = await send(port, "GET", "/hang");
      await _sleep(200);
      const sigtermAt = performance.now();
      child.kill("SIGTERM");
      const exit = await awaitExit(ctx, child, sigtermAt);
      const outcome = await _outcome(connection, 1_000);
      const atDeadline = exit.sigtermToExitMs >= ctx.deadlineMs - 100 && _exitedInTime(ctx, exit);
      return {
        ...exit,
        pass: atDeadline && exit.exit !== "0",
        client: `${_outcomeWords(outcome)}; ${_exitWords(exit)}`,
      };
    }),
};

/** The keep-alive load: sockets in the pool, warm-up before SIGTERM. */
const LOAD = { sockets: 32, thinkMs: 2, warmMs: 1_000, afterExitMs: 300 };

const keepAliveLoad: Scenario = {
  id: "keep-alive-load",
  title: "keep-alive load across SIGTERM",
  passes: `${LOAD.sockets} keep-alive sockets send GET / and POST /echo back to back (a client ` +
    "that honours Connection: close and never reuses a socket it saw closed); SIGTERM after 1 s. " +
    "A request written on a socket that then ends without a complete response (reset, EOF, " +
    "partial, timeout) is lost; a refused connect is not (nothing was sent). Passing needs no " +
    "request lost on a keep-alive socket that had already carried a response, and an exit by " +
    "itself within the deadline; requests lost on new sockets (connects the kernel had queued " +
    "when the listener closed, reset by that close) are counted and shown, not judged",
  run: (ctx, peer) =>
    _withFixture(ctx, "keep-alive-load", peer, async (child, port) => {
      const client = new RaceClient({
        port,
        sockets: LOAD.sockets,
        postShare: 0.5,
        bodyBytes: 256,
        refusedRetryMs: 50,
        timeoutMs: 3_000,
        compliant: true,
        thinkMs: LOAD.thinkMs,
        random: prng(19),
      });
      client.start();
      let result: RaceClientResult;
      let exit: ExitRecord;
      try {
        await _sleep(LOAD.warmMs);
        const sigtermAt = performance.now();
        child.kill("SIGTERM");
        exit = await awaitExit(ctx, child, sigtermAt);
        await _sleep(LOAD.afterExitMs);
      } finally {
        result = await client.stop();
      }
      const sum = (kind: "fresh" | "reused"): number =>
        LOST.reduce((total, outcome) => total + result.counts[kind][outcome], 0);
      const lost = sum("fresh") + sum("reused");
      const ok = result.counts.fresh.ok + result.counts.reused.ok;
      const bad = result.counts.fresh["bad-response"] + result.counts.reused["bad-response"];
      const kinds = new Map<string, number>();
      for (const f of result.failed) {
        if (!LOST.includes(f.outcome)) continue;
        const how = f.outcome === "reset" ? "reset" : f.outcome === "closed" ? "EOF" : f.outcome;
        const key = `${how} on ${f.kind === "reused" ? "a reused" : "a new"} socket`;
        kinds.set(key, (kinds.get(key) ?? 0) + 1);
      }
      const described = [...kinds].map(([k, n]) => `${n}× ${k}`).join(", ");
      return {
        ...exit,
        pass: sum("reused") === 0 && bad === 0 && _exitedInTime(ctx, exit),
        lost,
        client: `${ok} ok, ${lost} lost${described ? ` (${described})` : ""}, ` +
          `${result.counts.fresh.refused} refused connects` +
          `${bad > 0 ? `, ${bad} bad responses` : ""}; ${_exitWords(exit)}`,
        details: {
          counts: result.counts,
          refused: result.counts.fresh.refused,
          connectionCloseResponses: result.connectionCloseAt.length,
          closedWhileIdle: result.closedWhileIdle,
        },
      };
    }),
};

function _freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Rolling restart: slow POSTs beside wrk, so that requests are in flight at each SIGTERM. */
const SLOW_POSTS = { clients: 4, ms: 200 };

function _counted(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([what, n]) => `${n}× ${what}`).join(", ");
}

/**
 * `SLOW_POSTS.clients` loops of `POST /slow?ms=200` through the proxy until `until`
 * (performance.now()): a proxy never retries a POST it has sent, so a peer that drops a request
 * in flight loses it. Resolves with how many were sent and how each failure looked.
 */
async function _slowPosts(
  origin: string,
  until: number,
): Promise<{ sent: number; failed: string[] }> {
  let sent = 0;
  const failed: string[] = [];
  const loop = async (): Promise<void> => {
    while (performance.now() < until - SLOW_POSTS.ms) {
      sent++;
      try {
        const response = await fetch(`${origin}/slow?ms=${SLOW_POSTS.ms}`, {
          method: "POST",
          body: "x",
          signal: AbortSignal.timeout(5_000),
        });
        const text = await response.text();
        if (response.status !== 200 || text !== `slept ${SLOW_POSTS.ms} ms`) {
          failed.push(String(response.status));
        }
      } catch (error) {
        failed.push(error instanceof Error ? error.name : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: SLOW_POSTS.clients }, loop));
  return { sent, failed };
}

/** Rolling restart: the load's length and the restarts in it. */
function _rollout(ctx: ScenarioContext): { durationS: number; restarts: number } {
  return ctx.quick ? { durationS: 5, restarts: 3 } : { durationS: 12, restarts: 4 };
}

const rollingRestart: Scenario = {
  id: "rolling-restart",
  title: "rolling restart behind nginx",
  passes: "wrk (32 connections, tests/rollout/mix.lua, Connection: close to nginx) and 4 " +
    "loops of POST /slow?ms=200 (which nginx never retries once sent) → nginx " +
    "(keep-alive upstream pool, retries connection errors) → two instances; each instance in " +
    "turn is replaced: the new one starts on a new port, nginx is reloaded with it and the old " +
    "one gets SIGTERM at once. No request may fail (non-2xx, socket error, wrong body), and " +
    "every old instance exits by itself within the deadline",
  run: async (ctx, peer) => {
    const { durationS, restarts } = _rollout(ctx);
    const dir = await Deno.makeTempDir({ dir: ctx.dir, prefix: `${peer.id}-` });
    const started: Child[] = [];
    const exits: ExitRecord[] = [];
    let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
    try {
      const start = async (name: string): Promise<{ child: Child; port: number }> => {
        const instance = await startFixture(ctx, peer, name);
        started.push(instance.child);
        return instance;
      };
      const live = [await start("a#1"), await start("b#1")];
      nginx = await startNginx(ctx.children, {
        bin: ctx.nginx,
        dir,
        listenPort: _freePort(),
        upstreamPorts: live.map((i) => i.port),
      });
      const load = startLoad(ctx.children, `http://127.0.0.1:${nginx.port}/`, {
        bin: ctx.wrk,
        script: join(ctx.root, "tests", "rollout", "mix.lua"),
        durationS,
        cwd: ctx.root,
        closeEachRequest: true,
      });
      const slowPosts = _slowPosts(
        `http://127.0.0.1:${nginx.port}`,
        load.startedAt + durationS * 1000,
      );
      for (let k = 0; k < restarts; k++) {
        const at = load.startedAt + ((k + 1) / (restarts + 1)) * durationS * 1000;
        await _sleep(at - performance.now());
        const slot = k % 2;
        const old = live[slot]!;
        const fresh = await start(`${slot === 0 ? "a" : "b"}#${k + 2}`);
        live[slot] = fresh;
        await nginx.writeConfig(live.map((i) => i.port).sort((x, y) => x - y));
        nginx.reload();
        const sigtermAt = performance.now();
        old.child.kill("SIGTERM");
        exits.push(await awaitExit(ctx, old.child, sigtermAt));
      }
      const result = await load.result;
      const posts = await slowPosts;
      const lost = failuresOf(result) + posts.failed.length;
      const worst = exits.reduce((
        w,
        e,
      ) => (e.killed || e.sigtermToExitMs > w.sigtermToExitMs ? e : w));
      const exitsOk = exits.every((e) => _exitedInTime(ctx, e));
      const errors = result.socketErrors;
      const non2xx = Object.entries(result.status).filter(([s]) => !/^2/.test(s))
        .map(([s, n]) => `${n}× ${s}`);
      const parts = [
        ...non2xx,
        ...(["connect", "read", "write", "timeout"] as const).filter((k) => errors[k] > 0)
          .map((k) => `${errors[k]} ${k} errors`),
        ...(result.badBody > 0 ? [`${result.badBody} wrong bodies`] : []),
        ...(posts.failed.length > 0
          ? [
            `slow POSTs: ${posts.failed.length} of ${posts.sent} failed: ${_counted(posts.failed)}`,
          ]
          : []),
      ];
      return {
        scenario: "rolling-restart",
        peer: peer.id,
        exit: exits.map((e) => e.exit).join(", "),
        sigtermToExitMs: worst.sigtermToExitMs,
        killed: exits.some((e) => e.killed),
        pass: lost === 0 && exitsOk && exits.length === restarts,
        lost,
        client: `${result.requests} wrk requests and ${posts.sent} slow POSTs, ${lost} failed` +
          `${parts.length ? ` (${parts.join(", ")})` : ""}; ` +
          `old instances: ${exits.map(_exitWords).join("; ")}`,
        details: { durationS, restarts, load: result, slowPosts: posts, exits },
      };
    } catch (error) {
      return {
        scenario: "rolling-restart",
        peer: peer.id,
        pass: false,
        client: "harness error",
        exit: "?",
        sigtermToExitMs: NaN,
        killed: false,
        error: error instanceof Error ? error.message : String(error),
      };
    } finally {
      if (nginx && !nginx.child.exit) await nginx.stop();
      for (const child of started) {
        if (!child.exit) {
          child.kill("SIGKILL");
          await child.exited;
        }
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
};

/** Every scenario, in table order. */
export const SCENARIOS: readonly Scenario[] = [
  inFlight,
  keepAliveReuse,
  endlessSse,
  webSocket,
  upload,
  hang,
  keepAliveLoad,
  rollingRestart,
];
