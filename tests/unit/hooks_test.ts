import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { graceful, type Logger } from "../../mod.ts";
import { FakeClock } from "./_fake_clock.ts";

const quiet: Logger = { info() {}, warn() {}, error() {} };

describe("cleanup hooks", () => {
  it("run after the drain, last registered first", async () => {
    const order: string[] = [];
    const g = graceful(() => new Response("ok"), { logger: quiet });
    g.onShutdown(() => {
      order.push("db");
    });
    g.onShutdown(async () => {
      await Promise.resolve();
      order.push("cache");
    });
    g.onShutdown(() => {
      order.push("metrics");
    }, { name: "metrics" });
    const report = await g.shutdown();
    assert.deepEqual(order, ["metrics", "cache", "db"]);
    assert.deepEqual(report.hooks.map((h) => [h.name, h.outcome]), [
      ["metrics", "ok"],
      ["hook 2", "ok"],
      ["hook 1", "ok"],
    ]);
    assert.equal(report.exitCode, 0);
  });

  it("report a hook that throws, keep running the others, and set exit code 1", async () => {
    const ran: string[] = [];
    const errors: string[] = [];
    const g = graceful(() => new Response("ok"), {
      logger: { ...quiet, error: (m) => errors.push(m) },
    });
    g.onShutdown(() => {
      ran.push("first");
    });
    g.onShutdown(function failing() {
      throw new Error("disk full");
    });
    const report = await g.shutdown();
    assert.deepEqual(ran, ["first"]);
    assert.equal(report.hooks[0]?.outcome, "error");
    assert.equal(report.hooks[0]?.error, "disk full");
    assert.equal(report.hooks[0]?.name, "failing");
    assert.equal(report.exitCode, 1);
    assert.match(errors[0]!, /hook "failing" failed after \d+ ms: disk full/);
  });

  it("bound a hanging hook by its own timeout and abort its signal", async () => {
    const clock = new FakeClock();
    let hookSignal: AbortSignal | undefined;
    const ran: string[] = [];
    const g = graceful(() => new Response("ok"), {
      logger: quiet,
      clock,
      hookTimeout: 2_000,
      drainDelay: 0,
    });
    g.onShutdown(() => {
      ran.push("after the hung one");
    });
    g.onShutdown((signal) => {
      hookSignal = signal;
      return new Promise<void>(() => {});
    }, { name: "hangs", timeout: 300 });
    const finished = g.shutdown();
    await clock.advance(299);
    assert.deepEqual(ran, []);
    assert.equal(hookSignal?.aborted, false);
    await clock.advance(1);
    const report = await finished;
    assert.equal(hookSignal?.aborted, true);
    assert.deepEqual(ran, ["after the hung one"]);
    assert.deepEqual(report.hooks.map((h) => [h.name, h.outcome, h.durationMs]), [
      ["hangs", "timeout", 300],
      ["hook 1", "ok", 0],
    ]);
    assert.equal(report.exitCode, 1);
  });

  it("can be unregistered", async () => {
    const ran: string[] = [];
    const g = graceful(() => new Response("ok"), { logger: quiet });
    const remove = g.onShutdown(() => {
      ran.push("removed");
    });
    remove();
    await g.shutdown();
    assert.deepEqual(ran, []);
  });

  it("cannot be registered once the hooks have run", async () => {
    const g = graceful(() => new Response("ok"), { logger: quiet });
    await g.shutdown();
    assert.throws(() => g.onShutdown(() => {}), /already ran its hooks/);
  });
});
