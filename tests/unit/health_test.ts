import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { graceful, lifecycle, liveness, readiness } from "../../mod.ts";
import { health } from "../../src/hono.ts";

const read = async (response: Response | Promise<Response>) => {
  const r = await response;
  return [r.status, await r.text(), r.headers.get("cache-control")];
};

describe("health endpoints", () => {
  it("readiness() answers 200 while serving and 503 from the start of the shutdown", async () => {
    const life = lifecycle();
    const g = graceful(() => new Response("ok"), { lifecycle: life, logger: false });
    const ready = readiness(life);
    const live = liveness();
    assert.deepEqual(await read(ready()), [200, "ready\n", "no-store"]);
    const done = g.shutdown();
    assert.deepEqual(await read(ready()), [503, "shutting down\n", "no-store"]);
    assert.deepEqual(await read(live()), [200, "ok\n", "no-store"], "liveness stays up");
    await done;
    assert.deepEqual(await read(ready()), [503, "shutting down\n", "no-store"]);
    assert.equal((await readiness(g)()).status, 503, "the server works as the source too");
  });

  it("health() answers the probes before other middleware and passes the rest through", async () => {
    const life = lifecycle();
    const g = graceful(() => new Response("ok"), { lifecycle: life, logger: false });
    const app = new Hono();
    app.use(health(life, { readiness: "/ready" }));
    app.use(async (c, next) => {
      if (!c.req.header("authorization")) return c.text("denied", 401);
      await next();
      return undefined;
    });
    app.get("/", (c) => c.text("home"));
    const get = (path: string, init?: RequestInit) =>
      app.fetch(new Request(`http://x${path}`, init));
    assert.deepEqual(await read(get("/ready")), [200, "ready\n", "no-store"]);
    assert.deepEqual(await read(get("/livez")), [200, "ok\n", "no-store"]);
    assert.equal((await get("/ready", { method: "HEAD" })).status, 200);
    assert.equal((await get("/readyz")).status, 401, "the default path was replaced");
    assert.equal((await get("/ready", { method: "POST" })).status, 401, "probes are GET/HEAD");
    assert.equal(
      await (await get("/", { headers: { authorization: "x" } })).text(),
      "home",
    );
    g.shutdown();
    assert.deepEqual(await read(get("/ready")), [503, "shutting down\n", "no-store"]);
    assert.equal((await get("/livez")).status, 200);
  });

  it("rejects a source without a shutdown state, and paths without a leading slash", () => {
    assert.throws(
      () => readiness({} as never),
      /readiness\(\): expected a lifecycle \(from lifecycle\(\)\) or a server .* received object/,
    );
    assert.throws(() => health(null as never), /health\(\): expected a lifecycle .* received null/);
    assert.throws(
      () => health(lifecycle(), { liveness: "livez" }),
      /health\(\): "liveness" must be a path starting with "\/", received "livez"/,
    );
  });
});
