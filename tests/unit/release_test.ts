import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { _belowRange, _olderThan } from "../../src/runtime/release.ts";
import { _bunServer } from "../../src/runtime/bun/adapter.ts";
import { _denoServer } from "../../src/runtime/deno/adapter.ts";

const never = (): Promise<void> => new Promise<void>(() => {});

async function settles(promise: Promise<unknown>): Promise<boolean> {
  const late = new Promise<false>((resolve) => setTimeout(() => resolve(false), 20));
  return await Promise.race([promise.then(() => true), late]);
}

describe("release lines", () => {
  it("compares releases by number, not as text", () => {
    assert.equal(_olderThan("2.5.7", "2.8.3"), true);
    assert.equal(_olderThan("2.10.0", "2.8.3"), false);
    assert.equal(_olderThan("2.8.3", "2.8.3"), false);
    assert.equal(_olderThan("1.3.14-canary.1", "1.4.0"), true);
    assert.equal(_olderThan(undefined, "1.4.0"), false, "an unknown release gets no workaround");
  });

  it("warns below the supported range only, naming the release and the range", () => {
    assert.match(
      _belowRange("deno", "2.1.14") ?? "",
      /^Deno 2\.1\.14 is older than .*Deno 2\.2\.0/,
    );
    assert.match(_belowRange("bun", "1.1.45") ?? "", /^Bun 1\.1\.45 is older than .*Bun 1\.2\.0/);
    assert.equal(_belowRange("deno", "2.2.15"), undefined);
    assert.equal(_belowRange("bun", "1.4.5"), undefined);
  });

  it("lets go of a Deno shutdown() stuck with nothing in flight before 2.8.3 only", async () => {
    const server = { shutdown: never, finished: never() };
    const old = _denoServer(server, "2.5.7");
    const closing = old.close();
    assert.match(String(old.settleIdle()), /Deno 2\.5\.7: shutdown\(\) is still waiting/);
    assert.equal(await settles(closing), true);
    const current = _denoServer(server, "2.9.5");
    const waiting = current.close();
    assert.equal(current.settleIdle(), undefined);
    assert.equal(await settles(waiting), false, "2.8.3+ may still be writing a body");
  });

  it("lets go of a Bun stop() that waits on WebSockets the library saw close", async () => {
    const calls: string[] = [];
    const stale = {
      stop: (force?: boolean) => (calls.push(force ? "stop(true)" : "stop()"), never()),
      pendingRequests: 0,
      pendingWebSockets: 1,
    };
    const server = _bunServer(stale, "1.3.14");
    const closing = server.close();
    assert.match(String(server.settleIdle()), /Bun 1\.3\.14: stop\(\) is still waiting for 1/);
    assert.equal(await settles(closing), true);
    assert.deepEqual(calls, ["stop()", "stop(true)"]);

    const busy = _bunServer({ ...stale, pendingRequests: 1 }, "1.3.14");
    const waiting = busy.close();
    assert.equal(busy.settleIdle(), undefined, "a request still counted by Bun is waited for");
    assert.equal(await settles(waiting), false);
  });
});
