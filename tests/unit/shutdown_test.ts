import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { graceful } from "../../mod.ts";
import { FakeClock, flush } from "./_fake_clock.ts";
import { denoServer as server, recorder } from "./_fakes.ts";

describe("the shutdown phases", () => {
  it("closes a server attached after the listeners were closed, when none was attached before", async () => {
    const clock = new FakeClock();
    const answer = Promise.withResolvers<Response>();
    const g = graceful((_request: Request) => answer.promise, {
      logger: false,
      clock,
      drainDelay: 0,
    });
    const pending = g.fetch(new Request("http://test/")) as Promise<Response>;
    const report = g.shutdown();
    await flush();
    const late = server();
    g.attach(late);
    assert.equal(late.closeCalls, 1, "its shutdown() was called at once");
    answer.resolve(new Response("done"));
    await (await pending).text();
    let settled = false;
    report.then(() => settled = true);
    await flush();
    assert.equal(settled, false, "the drain waits for the late server");
    late.settle();
    const r = await report;
    assert.deepEqual({ cut: r.cut, timedOut: r.timedOut, exitCode: r.exitCode }, {
      cut: 0,
      timedOut: false,
      exitCode: 0,
    });
  });

  it("closes a server attached during the lame duck when the listeners close", async () => {
    const clock = new FakeClock();
    const g = graceful(() => new Response("ok"), { logger: false, clock, drainDelay: 500 });
    const report = g.shutdown();
    await clock.advance(100);
    const late = server();
    g.attach(late);
    assert.equal(late.closeCalls, 0, "still in the lame duck");
    await clock.advance(400);
    assert.equal(late.closeCalls, 1);
    late.settle();
    assert.equal((await report).exitCode, 0);
  });

  it("reports a late-attached server that never settles as timed out at the deadline", async () => {
    const clock = new FakeClock();
    const answer = Promise.withResolvers<Response>();
    const g = graceful((_request: Request) => answer.promise, {
      logger: false,
      clock,
      timeout: 1_000,
    });
    const pending = g.fetch(new Request("http://test/")) as Promise<Response>;
    const report = g.shutdown();
    await clock.advance(400);
    const late = server();
    g.attach(late);
    assert.equal(late.closeCalls, 1, "closed at once: the listeners were closed already");
    answer.resolve(new Response("done"));
    await (await pending).text();
    let settled = false;
    report.then(() => settled = true);
    for (let i = 0; i < 20 && !settled; i++) await clock.advance(100);
    const r = await report;
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, 1, "a server that did not close in time is not a clean drain");
  });

  for (const close of ["throw", "reject"] as const) {
    it(
      `settles finished and ends "closed" when a server's shutdown() ${
        close === "throw" ? "throws" : "rejects"
      }`,
      async () => {
        const clock = new FakeClock();
        const log = recorder();
        const g = graceful(() => new Response("ok"), { logger: log, clock, drainDelay: 0 });
        const hooked: string[] = [];
        g.onShutdown(() => {
          hooked.push("ran");
        });
        g.attach(server(close));
        const report = await g.shutdown();
        assert.equal(await g.finished, report);
        assert.equal(g.state, "closed");
        assert.equal(report.exitCode, 1);
        assert.deepEqual(hooked, ["ran"], "the hooks still run");
        assert.ok(
          log.lines.some((l) => l.startsWith("error ") && l.includes("close failed")),
          log.lines.join("\n"),
        );
        assert.equal(clock.pending, 0, "no timer left behind");
      },
    );
  }

  for (const timeout of [0, 1]) {
    it(`exits 0 with timeout ${timeout} when nothing is in flight and the server closes late`, async () => {
      const clock = new FakeClock();
      const g = graceful(() => new Response("ok"), { logger: false, clock, timeout });
      const s = server();
      g.attach(s);
      const report = g.shutdown();
      clock.setTimeout(() => s.settle(), 5);
      let done = false;
      report.then(() => done = true);
      for (let i = 0; i < 20 && !done; i++) await clock.advance(5);
      const r = await report;
      assert.deepEqual({ cut: r.cut, timedOut: r.timedOut, exitCode: r.exitCode }, {
        cut: 0,
        timedOut: false,
        exitCode: 0,
      });
    });
  }

  it("warns when requests are in flight and no server is attached, and says how to attach", async () => {
    const clock = new FakeClock();
    const log = recorder();
    const answer = Promise.withResolvers<Response>();
    const g = graceful((_request: Request) => answer.promise, { logger: log, clock });
    const pending = g.fetch(new Request("http://test/")) as Promise<Response>;
    const report = g.shutdown();
    assert.ok(
      log.lines.some((l) =>
        /^warn no server attached: 1 request\(s\) in flight .*attach\(\)/.test(l)
      ),
      log.lines.join("\n"),
    );
    answer.resolve(new Response("done"));
    await (await pending).text();
    for (let i = 0; i < 20; i++) await clock.advance(20);
    await report;
  });

  it("leaves no timer behind after a drain that ended before the stream grace", async () => {
    const clock = new FakeClock();
    const g = graceful(() => new Response("ok"), { logger: false, clock, drainDelay: 0 });
    await g.shutdown();
    assert.equal(clock.pending, 0);
  });
});
