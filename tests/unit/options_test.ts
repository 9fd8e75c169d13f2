// Every invalid option and the error it raises; the table in docs/api.md lists the same cases.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { graceful, lifecycle, readiness } from "../../mod.ts";
import { health } from "../../src/hono.ts";
import { _serveOn } from "../../src/serve.ts";
import type { _Runtime as Runtime } from "../../src/runtime/types.ts";

const ok = () => new Response("ok");

/** A runtime that must never be reached: validation happens before listening. */
const unreachable: Runtime = {
  name: "deno",
  listen() {
    throw new Error("listen() must not be called for invalid options");
  },
  onSignal() {
    throw new Error("onSignal() must not be called for invalid options");
  },
  exit() {
    throw new Error("exit() must not be called for invalid options");
  },
};

const cases: [string, () => unknown, "TypeError" | "RangeError", RegExp][] = [
  [
    "a handler that is a number",
    () => graceful(42 as never),
    "TypeError",
    /graceful\(\): the handler must be a function or an object with a fetch method \(such as a Hono app\), received 42/,
  ],
  [
    "an object without fetch",
    () => graceful({ handle: ok } as never),
    "TypeError",
    /received an object/,
  ],
  [
    "options that are not an object",
    () => graceful(ok, "fast" as never),
    "TypeError",
    /options must be an object, received "fast"/,
  ],
  [
    "a negative timeout",
    () => graceful(ok, { timeout: -1 }),
    "RangeError",
    /graceful\(\): "timeout" must be a finite number >= 0, received -1/,
  ],
  [
    "a NaN timeout",
    () => graceful(ok, { timeout: NaN }),
    "RangeError",
    /"timeout" must be a finite number >= 0, received NaN/,
  ],
  [
    "an infinite timeout",
    () => graceful(ok, { timeout: Infinity }),
    "RangeError",
    /received Infinity/,
  ],
  [
    "a timeout given as a string",
    () => graceful(ok, { timeout: "10s" as never }),
    "TypeError",
    /"timeout" must be a number of milliseconds, received "10s"/,
  ],
  [
    "a negative drainDelay",
    () => graceful(ok, { drainDelay: -5 }),
    "RangeError",
    /"drainDelay" must be a finite number >= 0, received -5/,
  ],
  [
    "a drainDelay not shorter than the timeout",
    () => graceful(ok, { drainDelay: 5_000, timeout: 5_000 }),
    "RangeError",
    /"drainDelay" must be less than "timeout" \(5000\), received 5000/,
  ],
  [
    "a negative hookTimeout",
    () => graceful(ok, { hookTimeout: -1 }),
    "RangeError",
    /"hookTimeout" must be a finite number >= 0, received -1/,
  ],
  [
    "a negative streamGrace",
    () => graceful(ok, { streamGrace: -1 }),
    "RangeError",
    /"streamGrace" must be a finite number >= 0, received -1/,
  ],
  [
    "an sseFinalFrame that is not a string",
    () => graceful(ok, { sseFinalFrame: 42 as never }),
    "TypeError",
    /"sseFinalFrame" must be a string or false, received 42/,
  ],
  [
    "an sseFinalFrame without a blank line at the end",
    () => graceful(ok, { sseFinalFrame: "event: bye" }),
    "RangeError",
    /"sseFinalFrame" must end with a blank line .* received "event: bye"/,
  ],
  [
    "an unknown option",
    () => graceful(ok, { timout: 5 } as never),
    "TypeError",
    /graceful\(\): unknown option "timout", expected one of "timeout"/,
  ],
  [
    "a logger without methods",
    () => graceful(ok, { logger: "stderr" as never }),
    "TypeError",
    /"logger" must be false or an object with info, warn and error methods, received string/,
  ],
  [
    "a clock without timers",
    () => graceful(ok, { clock: { now: () => 0 } as never }),
    "TypeError",
    /"clock" must have now, setTimeout and clearTimeout methods/,
  ],
  [
    "an unknown signal name",
    () => _serveOn(unreachable, ok, { signals: ["SIGTERM", "SIGKILLME" as never] }),
    "TypeError",
    /serve\(\): "signals" contains "SIGKILLME", expected one of SIGHUP, SIGINT, SIGQUIT/,
  ],
  [
    "signals that are not an array",
    () => _serveOn(unreachable, ok, { signals: "SIGTERM" as never }),
    "TypeError",
    /"signals" must be an array of signal names, received "SIGTERM"/,
  ],
  [
    "a port out of range",
    () => _serveOn(unreachable, ok, { port: 70_000 }),
    "RangeError",
    /serve\(\): "port" must be between 0 and 65535, received 70000/,
  ],
  [
    "a port that is not an integer",
    () => _serveOn(unreachable, ok, { port: 80.5 }),
    "TypeError",
    /"port" must be an integer \(or a string of digits\), received 80.5/,
  ],
  [
    "an empty hostname",
    () => _serveOn(unreachable, ok, { hostname: "" }),
    "TypeError",
    /"hostname" must be a non-empty string, received ""/,
  ],
  [
    "tls without a key",
    () => _serveOn(unreachable, ok, { tls: { cert: "PEM" } as never }),
    "TypeError",
    /"tls" must be an object with PEM strings "cert" and "key"/,
  ],
  [
    "exit that is not a boolean",
    () => _serveOn(unreachable, ok, { exit: "no" as never }),
    "TypeError",
    /"exit" must be true or false, received "no"/,
  ],
  [
    "onListen that is not a function",
    () => _serveOn(unreachable, ok, { onListen: true as never }),
    "TypeError",
    /"onListen" must be a function, received true/,
  ],
  [
    "an idleTimeout beyond Bun's range",
    () => _serveOn(unreachable, ok, { idleTimeout: 300 }),
    "RangeError",
    /serve\(\): "idleTimeout" must be a whole number of seconds from 0 to 255 \(Bun's range\), received 300/,
  ],
  [
    "an idleTimeout that is not a whole number",
    () => _serveOn(unreachable, ok, { idleTimeout: 1.5 }),
    "RangeError",
    /"idleTimeout" must be a whole number of seconds from 0 to 255 .*received 1.5/,
  ],
  [
    "websocket handlers on Deno",
    () => _serveOn(unreachable, ok, { websocket: { message() {} } }),
    "TypeError",
    /serve\(\): "websocket" handlers are for Bun.serve; on deno/,
  ],
  [
    "websocket handlers without message",
    () => _serveOn({ ...unreachable, name: "bun" }, ok, { websocket: { open() {} } }),
    "TypeError",
    /websocket\(\): expected Bun's websocket handlers \(an object with a message function\)/,
  ],
  [
    "a lifecycle not made by lifecycle()",
    () => graceful(ok, { lifecycle: { signal: new AbortController().signal } as never }),
    "TypeError",
    /graceful\(\): "lifecycle" must be created by lifecycle\(\), received an object/,
  ],
  [
    "a lifecycle that already belongs to a server",
    () => {
      const life = lifecycle();
      graceful(ok, { lifecycle: life, logger: false });
      return graceful(ok, { lifecycle: life });
    },
    "TypeError",
    /graceful\(\): this lifecycle already belongs to another server/,
  ],
  [
    "reusePort that is not a boolean",
    () => _serveOn(unreachable, ok, { reusePort: 1 as never }),
    "TypeError",
    /serve\(\): "reusePort" must be true or false, received 1/,
  ],
  [
    "http2 that is not a boolean",
    () => _serveOn(unreachable, ok, { http2: "yes" as never }),
    "TypeError",
    /serve\(\): "http2" must be true or false, received "yes"/,
  ],
  [
    "http2 without tls",
    () => _serveOn(unreachable, ok, { http2: true }),
    "TypeError",
    /serve\(\): "http2" needs "tls" \(HTTP\/2 is served over TLS\), received http2: true without tls/,
  ],
  [
    "a readiness source without a shutdown state",
    () => readiness({} as never),
    "TypeError",
    /readiness\(\): expected a lifecycle \(from lifecycle\(\)\) or a server \(from serve\(\) or graceful\(\)\), received object/,
  ],
  [
    "a health() path without a leading slash",
    () => health(lifecycle(), { readiness: "readyz" }),
    "TypeError",
    /health\(\): "readiness" must be a path starting with "\/", received "readyz"/,
  ],
  [
    "an onShutdown() hook that is not a function",
    () => graceful(ok, { logger: false }).onShutdown("close db" as never),
    "TypeError",
    /onShutdown\(\): the hook must be a function, received "close db"/,
  ],
  [
    "an onShutdown() timeout that is negative",
    () => graceful(ok, { logger: false }).onShutdown(() => {}, { timeout: -1 }),
    "RangeError",
    /onShutdown\(\): "timeout" must be a finite number >= 0, received -1/,
  ],
  [
    "a shutdown() signal that is not a signal name",
    () => graceful(ok, { logger: false }).shutdown({ signal: "SIGFOO" as never }),
    "TypeError",
    /shutdown\(\): "signal" must be a signal name such as "SIGTERM", received "SIGFOO"/,
  ],
  [
    "a shutdown() reason that is not a string",
    () => graceful(ok, { logger: false }).shutdown({ reason: 42 as never }),
    "TypeError",
    /shutdown\(\): "reason" must be a string, received 42/,
  ],
  [
    "a handler for serve() that is null",
    () => _serveOn(unreachable, null as never),
    "TypeError",
    /serve\(\): the handler must be a function or an object with a fetch method.*received null/,
  ],
];

/** The error `run` throws, as `Name: message`. */
function thrown(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
  throw new Error("nothing was thrown");
}

/** A docs/api.md table row for a case (`|` escaped as markdown tables need). */
function readmeRow(what: string, run: () => unknown): [string, string] {
  return [what, "`" + thrown(run).replaceAll("|", "\\|") + "`"];
}

describe("invalid options", () => {
  it("the table in docs/api.md lists every case below with its exact error", () => {
    const readme = readFileSync(new URL("../../docs/api.md", import.meta.url), "utf8");
    const rows = new Set(
      readme.split("\n").filter((line) => line.startsWith("| ")).map((line) =>
        line.split(" | ").map((cell) => cell.replace(/^\| /, "").replace(/ \|$/, "").trim())
          .join(" | ")
      ),
    );
    const missing = cases.map(([what, run]) => readmeRow(what, run).join(" | "))
      .filter((row) => !rows.has(row));
    assert.deepEqual(missing, [], "rows to add to the invalid options table of docs/api.md");
  });

  for (const [what, run, name, message] of cases) {
    it(`${what} throws a ${name} that names the option and the value`, () => {
      assert.throws(run, (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal(error.name, name);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it("shutdown() with an unknown signal throws a TypeError", () => {
    const g = graceful(ok, { logger: false });
    assert.throws(() => g.shutdown({ signal: "SIGFOO" as never }), {
      name: "TypeError",
      message: /shutdown\(\): "signal" must be a signal name such as "SIGTERM", received "SIGFOO"/,
    });
    assert.equal(g.state, "serving", "a rejected call does not start the shutdown");
  });

  it("onShutdown() with a hook that is not a function throws a TypeError", () => {
    const g = graceful(ok, { logger: false });
    assert.throws(() => g.onShutdown("close db" as never), {
      name: "TypeError",
      message: /onShutdown\(\): the hook must be a function, received "close db"/,
    });
    assert.throws(() => g.onShutdown(() => {}, { timeout: -1 }), {
      name: "RangeError",
      message: /onShutdown\(\): "timeout" must be a finite number >= 0, received -1/,
    });
  });
});
