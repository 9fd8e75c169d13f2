import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { graceful, lifecycle, ShutdownError } from "../../mod.ts";
import { type GracefulVariables, requestSignal, shutdownSignal } from "../../src/hono.ts";

describe("lifecycle()", () => {
  it("gives routes the shutdown signal before the server exists", async () => {
    const life = lifecycle();
    assert.equal(life.state, "serving");
    const g = graceful(() => new Response("ok"), { logger: false, lifecycle: life });
    assert.equal(g.lifecycle, life);
    assert.equal(life.signal.aborted, false);
    await g.shutdown({ reason: "test" });
    assert.equal(life.signal.aborted, true);
    assert.ok(life.signal.reason instanceof ShutdownError);
    assert.equal(life.state, "closed");
  });

  it("belongs to one server only", () => {
    const life = lifecycle();
    graceful(() => new Response("ok"), { logger: false, lifecycle: life });
    assert.throws(() => graceful(() => new Response("ok"), { lifecycle: life }), {
      name: "TypeError",
      message: /graceful\(\): this lifecycle already belongs to another server/,
    });
    assert.throws(() => graceful(() => new Response("ok"), { lifecycle: {} as never }), {
      name: "TypeError",
      message: /"lifecycle" must be created by lifecycle\(\), received an object/,
    });
  });

  it("aborts a request signal on shutdown or when the client goes away", async () => {
    const life = lifecycle();
    const g = graceful(() => new Response("ok"), { logger: false, lifecycle: life });
    const client = new AbortController();
    const request = new Request("http://test/", { signal: client.signal });
    const gone = life.requestSignal(request);
    client.abort(new Error("client left"));
    assert.equal(gone.aborted, true);
    const onShutdown = g.requestSignal(new Request("http://test/"));
    assert.equal(onShutdown.aborted, false);
    await g.shutdown();
    assert.equal(onShutdown.aborted, true);
    assert.ok(onShutdown.reason instanceof ShutdownError);
  });
});

describe("Hono: shutdownSignal()", () => {
  it("puts the shutdown signal on the context and ends a loop when it aborts", async () => {
    const life = lifecycle();
    const app = new Hono<{ Variables: GracefulVariables }>();
    app.use("/work", shutdownSignal(life));
    app.get("/work", async (c) => {
      let rounds = 0;
      while (!c.var.shutdown.aborted) {
        rounds++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return c.text(`stopped after ${rounds > 0 ? "some" : "no"} rounds`);
    });
    app.get("/plain", (c) => c.text(String(c.get("shutdown"))));
    const g = graceful(app, { logger: false, lifecycle: life });
    const pending = g.fetch(new Request("http://test/work"), undefined as never) as Promise<
      Response
    >;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const report = g.shutdown();
    const response = await pending;
    assert.equal(await response.text(), "stopped after some rounds");
    assert.equal(response.headers.get("connection"), "close");
    assert.equal((await report).completed, 1);
    const plain = await app.request("/plain");
    assert.equal(await plain.text(), "undefined", "routes without the middleware pay nothing");
  });

  it("gives requestSignal(c) only on routes with the middleware", async () => {
    const life = lifecycle();
    const app = new Hono<{ Variables: GracefulVariables }>();
    app.use("/with", shutdownSignal(life));
    app.get("/with", (c) => c.text(String(requestSignal(c).aborted)));
    app.get("/without", (c) => c.text(String(requestSignal(c).aborted)));
    app.onError((error, c) => c.text(error.message, 500));
    assert.equal(await (await app.request("/with")).text(), "false");
    const without = await app.request("/without");
    assert.equal(without.status, 500);
    assert.match(await without.text(), /does not use the shutdownSignal\(\) middleware/);
    assert.throws(() => shutdownSignal({} as never), {
      name: "TypeError",
      message: /expected the lifecycle from lifecycle\(\), received object/,
    });
  });
});
