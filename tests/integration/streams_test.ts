// Streams at shutdown, with real processes and real clients: SSE responses that ignore the
// shutdown signal are ended by the library with a final frame and a clean end of the body. Runs
// on Deno and Bun, and on each Node of GRACEFUL_NODE (tests/integration/_node.ts).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { get } from "node:http";
import { gunzipSync } from "node:zlib";
import { after, afterEach, describe, it } from "node:test";
import {
  cleanup,
  type Demo,
  type Exit,
  openTicking,
  publicDenoPath,
  releaseBefore,
  runtimeLabel,
  RUNTIMES,
  sleep,
  startDemo,
  startProcess,
} from "./_harness.ts";
import { nodeBinaries, nodeLeftOut } from "./_node.ts";

/** What the servers run on: a runtime line of the harness, or one Node binary. */
interface Target {
  readonly label: string;
  /** Starts `script` (examples/demo.ts unless given) with PORT=0 HOSTNAME=127.0.0.1 plus `env`. */
  start(env?: Record<string, string>, script?: string): Promise<Demo<string>>;
  /** Why the compressed-SSE fixture cannot run there, or `false`. */
  readonly noGzip: string | false;
  /** Deno's public-API path: a body streamed before the shutdown is not counted, nor cut. */
  readonly publicDeno: boolean;
}

/**
 * What the log says of one endless body, begun before the signal, at the deadline: counted and
 * cut, or on Deno's public-API path left to Deno's shutdown (the process exit ends it).
 */
function cutAtDeadline(target: Target): RegExp {
  return target.publicDeno
    ? /the runtime is still writing responses the library does not count/
    : /1 cut/;
}

function _targets(): Target[] {
  const targets: Target[] = RUNTIMES.map((runtime) => ({
    label: runtimeLabel(runtime),
    start: (env = {}, script) => startDemo(runtime, env, script ? { script } : {}),
    // Bun 1.2.23 has no CompressionStream (ReferenceError), so the fixture cannot compress there.
    noGzip: runtime === "bun" && releaseBefore("bun", "1.3.0")
      ? "!!! SKIPPED: this Bun has no CompressionStream for the fixture !!!"
      : false,
    publicDeno: publicDenoPath(runtime),
  }));
  const nodes = nodeLeftOut() || nodeBinaries();
  if (typeof nodes === "string") {
    describe("node: streams", () => {
      it("runs", { skip: `!!! SKIPPED: ${nodes} !!!` }, () => {});
    });
    return targets;
  }
  for (const node of nodes) {
    const label = `node ${node.version}`;
    targets.push({
      label,
      start: (env = {}, script = "examples/demo.ts") =>
        startProcess(label, [node.path, script], env),
      noGzip: false,
      publicDeno: false,
    });
  }
  return targets;
}

const BOUNDED = { timeout: 15_000 };

/** Reads an SSE body until it ends; `error` is set when it ended with an error (not cleanly). */
async function readToEnd(
  reader: ReadableStreamDefaultReader<string>,
  text: string,
): Promise<{ text: string; error?: unknown }> {
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { text };
      text += value;
    }
  } catch (error) {
    return { text, error };
  }
}

/** A response read raw (no decoding): its bytes, and how it ended. */
interface RawBody {
  bytes: Uint8Array;
  /** `end` once the body ended cleanly, else what broke it. */
  ended: "end" | string;
}

/** GETs `path` with node:http, which decodes nothing; resolves once the head arrived. */
function rawGet(port: number, path: string): Promise<{ body: Promise<RawBody> }> {
  return new Promise((resolve, reject) => {
    const request = get({ host: "127.0.0.1", port, path, agent: false }, (response) => {
      const chunks: Uint8Array[] = [];
      const body = new Promise<RawBody>((done) => {
        const finish = (ended: string): void => done({ bytes: Buffer.concat(chunks), ended });
        response.on("data", (chunk: Uint8Array) => chunks.push(chunk));
        response.on("end", () => finish("end"));
        response.on("aborted", () => finish("aborted"));
        response.on("error", (error) => finish(`error: ${error.message}`));
      });
      resolve({ body });
    });
    request.on("error", reject);
  });
}

/** Whether `gzip -t` accepts `bytes`, with its complaint when it does not. */
function gzipTest(bytes: Uint8Array): { ok: boolean; stderr: string } {
  const result = spawnSync("gzip", ["-t"], { input: bytes, encoding: "utf8" });
  return { ok: result.status === 0, stderr: result.stderr };
}

/**
 * Starts the demo with `env`, opens `path` until two ticks came, sends SIGTERM, and reads the
 * stream to its end and the process to its exit; times are in ms after the SIGTERM.
 */
async function sigtermWhileTicking(
  target: Target,
  path: string,
  env: Record<string, string> = {},
): Promise<
  {
    demo: Demo<string>;
    end: { text: string; error?: unknown };
    endedAfter: number;
    exit: Exit;
    exitedAfter: number;
  }
> {
  const demo = await target.start(env);
  const { reader, text } = await openTicking(demo.port, path);
  const signalledAt = demo.kill("SIGTERM");
  const end = await readToEnd(reader, text);
  const endedAfter = performance.now() - signalledAt;
  const exit = await demo.waitForExit(5_000);
  return { demo, end, endedAfter, exit, exitedAfter: exit.at - signalledAt };
}

for (const target of _targets()) {
  describe(`${target.label}: streams`, () => {
    afterEach(cleanup);
    after(cleanup);

    it(
      "ends an SSE stream that ignores the signal with a retry frame, cleanly, then exits 0",
      BOUNDED,
      async () => {
        const { demo, end, endedAfter, exit, exitedAfter } = await sigtermWhileTicking(
          target,
          "/sse-raw",
        );

        assert.equal(end.error, undefined, `the body did not end cleanly: ${end.error}`);
        assert.match(end.text, /\n\nretry: 1000\n\n$/, "the last frame is the retry hint");
        const frames = end.text.split("\n\n").filter((f) => f !== "");
        assert.ok(
          frames.slice(1, -1).every((f) => /^id: \d+\nevent: tick\ndata: raw \d+$/.test(f)),
          `only whole tick events before the final frame: ${JSON.stringify(end.text)}`,
        );
        // The default streamGrace is 250 ms: the handler had that long to finish by itself.
        assert.ok(endedAfter >= 200 && endedAfter < 2_000, `ended ${endedAfter} ms after SIGTERM`);
        assert.equal(exit.code, 0, demo.stderr());
        assert.ok(exitedAfter < 3_000, `exited ${exitedAfter} ms after SIGTERM`);
        assert.match(demo.stderr(), /ending 1 SSE stream\(s\) with a final frame/);
        assert.match(demo.stderr(), /\/sse-raw source cancelled/, "the handler's cleanup ran");
      },
    );

    it(
      "with sseFinalFrame false, leaves an SSE stream to the deadline: cut, no final frame, exit 1",
      BOUNDED,
      async () => {
        const { demo, end, endedAfter, exit } = await sigtermWhileTicking(target, "/sse-raw", {
          SSE_FINAL_FRAME: "off",
          SHUTDOWN_TIMEOUT_MS: "1500",
        });

        assert.doesNotMatch(end.text, /retry: 1000/, "no final frame was written");
        assert.ok(end.error !== undefined, `the body was cut, not ended: ${JSON.stringify(end)}`);
        assert.ok(
          endedAfter >= 1_400 && endedAfter < 3_000,
          `cut ${endedAfter} ms after SIGTERM (deadline 1500 ms)`,
        );
        assert.equal(exit.code, 1, demo.stderr());
        assert.doesNotMatch(demo.stderr(), /SSE stream/);
      },
    );

    it(
      "ends a Hono streamSSE that ignores the signal with the retry frame; Hono's onAbort runs",
      BOUNDED,
      async () => {
        const { demo, end, exit, exitedAfter } = await sigtermWhileTicking(
          target,
          "/sse-hono-raw",
        );
        assert.equal(end.error, undefined, `the body did not end cleanly: ${end.error}`);
        assert.match(end.text, /\n\nretry: 1000\n\n$/, "the last frame is the retry hint");
        const frames = end.text.split("\n\n").filter((f) => f !== "");
        assert.ok(
          frames.slice(0, -1).every((f) => /^event: tick\ndata: hono \d+\nid: \d+$/.test(f)),
          `only whole tick events before the final frame: ${JSON.stringify(end.text)}`,
        );
        assert.equal(exit.code, 0, demo.stderr());
        assert.ok(exitedAfter < 3_000, `exited ${exitedAfter} ms after SIGTERM`);
        assert.match(demo.stderr(), /ending 1 SSE stream\(s\) with a final frame/);
        assert.match(demo.stderr(), /\/sse-hono-raw aborted/, "Hono's onAbort ran");
      },
    );

    it(
      "lets a cooperative SSE handler end by itself within the grace (no library frame)",
      BOUNDED,
      async () => {
        const demo = await target.start();
        const response = await fetch(`http://127.0.0.1:${demo.port}/sse`);
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        const first = await reader.read();
        const signalledAt = demo.kill("SIGTERM");
        const end = await readToEnd(reader, first.value ?? "");
        const exit = await demo.waitForExit(5_000);
        assert.equal(end.error, undefined);
        assert.match(end.text, /event: shutdown\ndata: server is shutting down\nretry: 1000\n\n$/);
        assert.doesNotMatch(end.text, /\n\nretry: 1000\n\n$/, "no second, library-written frame");
        assert.doesNotMatch(demo.stderr(), /ending \d+ SSE stream/);
        assert.equal(exit.code, 0, demo.stderr());
        assert.ok(exit.at - signalledAt < 400, `exited ${exit.at - signalledAt} ms after SIGTERM`);
      },
    );

    it(
      "cuts a non-SSE stream still running at the deadline so the client sees an error",
      BOUNDED,
      async () => {
        const demo = await target.start({ SHUTDOWN_TIMEOUT_MS: "1000" });
        const response = await fetch(`http://127.0.0.1:${demo.port}/stream?chunks=1000&ms=50`);
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        const first = await reader.read();
        assert.match(first.value ?? "", /^chunk 0\n/);
        const signalledAt = demo.kill("SIGTERM");
        const end = await readToEnd(reader, first.value ?? "");
        const exit = await demo.waitForExit(5_000);
        assert.notEqual(end.error, undefined, "a cut stream must not look complete to the client");
        assert.doesNotMatch(end.text, /chunk 999/);
        assert.equal(exit.code, 1, demo.stderr());
        const after = exit.at - signalledAt;
        assert.ok(after >= 950 && after < 3_000, `exited ${after} ms after SIGTERM`);
        assert.match(demo.stderr(), cutAtDeadline(target));
      },
    );

    it(
      "keeps what an SSE handler wrote when its stream opens after the grace, in a long lame duck",
      BOUNDED,
      async () => {
        const demo = await target.start({ DRAIN_DELAY_MS: "1000" });
        demo.kill("SIGTERM");
        await sleep(400); // past the 250 ms stream grace, inside the 1000 ms lame duck
        const [raw, cooperative] = await Promise.all(["/sse-raw", "/sse"].map(async (path) => {
          const response = await fetch(`http://127.0.0.1:${demo.port}${path}`);
          return await response.text();
        }));
        const exit = await demo.waitForExit(5_000);
        assert.equal(
          raw,
          ": connected\n\nretry: 1000\n\n",
          "the handler's comment, then the frame",
        );
        assert.equal(
          cooperative,
          "event: shutdown\ndata: server is shutting down\nretry: 1000\n\n",
          "the handler's own last event, and no frame after it",
        );
        assert.equal(exit.code, 0, demo.stderr());
      },
    );

    const GZIP = { ...BOUNDED, skip: target.noGzip };
    it(
      "writes no plain-text frame into a gzip SSE body that ignores the signal: cut at the deadline",
      GZIP,
      async () => {
        const demo = await target.start(
          { SHUTDOWN_TIMEOUT_MS: "1500" },
          "tests/fixtures/encoded_sse_server.ts",
        );
        const { body } = await rawGet(demo.port, "/sse-gzip");
        await sleep(200);
        demo.kill("SIGTERM");
        const { bytes, ended } = await body;
        const exit = await demo.waitForExit(5_000);
        const text = new TextDecoder().decode(bytes);
        assert.doesNotMatch(text, /retry: 1000/, "the final frame went into the gzip body");
        assert.notEqual(ended, "end", "a cut compressed stream must not look complete");
        assert.equal(exit.code, 1, demo.stderr());
        assert.match(demo.stderr(), cutAtDeadline(target));
        assert.doesNotMatch(demo.stderr(), /ending \d+ SSE stream/);
      },
    );

    it(
      "leaves a gzip SSE body to its handler after the grace: it ends whole and decodes",
      GZIP,
      async () => {
        const demo = await target.start({}, "tests/fixtures/encoded_sse_server.ts");
        const { body } = await rawGet(demo.port, "/sse-gzip?end=600");
        await sleep(200);
        demo.kill("SIGTERM");
        const { bytes, ended } = await body;
        const exit = await demo.waitForExit(5_000);
        assert.equal(ended, "end");
        const gzip = gzipTest(bytes);
        assert.ok(gzip.ok, `gzip -t: ${gzip.stderr}`);
        const text = new TextDecoder().decode(gunzipSync(bytes));
        assert.match(text, /^: connected\n\n(data: tick \d+\n\n)+event: shutdown\ndata: bye\n\n$/);
        assert.equal(exit.code, 0, demo.stderr());
      },
    );

    it("ends many SSE streams at once and exits 0", BOUNDED, async () => {
      const demo = await target.start();
      const clients = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const response = await fetch(`http://127.0.0.1:${demo.port}/sse-raw`);
          const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
          const first = await reader.read();
          return { reader, text: first.value ?? "" };
        }),
      );
      demo.kill("SIGTERM");
      const ends = await Promise.all(clients.map((c) => readToEnd(c.reader, c.text)));
      const exit = await demo.waitForExit(5_000);
      assert.equal(ends.filter((e) => e.error === undefined).length, 50);
      assert.equal(ends.filter((e) => /retry: 1000\n\n$/.test(e.text)).length, 50);
      assert.equal(exit.code, 0, demo.stderr());
      assert.match(demo.stderr(), /ending 50 SSE stream\(s\)/);
    });
  });
}
