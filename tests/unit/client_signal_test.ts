import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Context, Hono } from "hono";
import { clientSignal, graceful, lifecycle } from "../../mod.ts";
import {
  clientSignal as honoClientSignal,
  type GracefulVariables,
  shutdownSignal,
} from "../../src/hono.ts";

describe("clientSignal()", () => {
  it("aborts when the client went away, not when the shutdown begins", async () => {
    const life = lifecycle();
    const client = new AbortController();
    const request = new Request("http://test/", { signal: client.signal });
    const g = graceful(() => new Response("ok"), { lifecycle: life, logger: false });
    const gone = clientSignal(request);
    const either = life.requestSignal(request);
    g.shutdown();
    assert.equal(either.aborted, true, "requestSignal() aborts at the shutdown");
    assert.equal(gone.aborted, false, "clientSignal() does not");
    client.abort(new Error("client left"));
    assert.equal(gone.aborted, true);
    await g.finished;
  });

  it("refuses anything but a Request", () => {
    assert.throws(
      () => clientSignal({ url: "/" } as unknown as Request),
      {
        name: "TypeError",
        message: /clientSignal\(\): expected the handler's Request, received object/,
      },
    );
  });

  it("is on the Hono context too, with no middleware needed", async () => {
    const life = lifecycle();
    const app = new Hono<{ Variables: GracefulVariables }>();
    app.use("/with/*", shutdownSignal(life));
    const seen: boolean[] = [];
    const route = (c: Context): Response => {
      seen.push(honoClientSignal(c) === c.req.raw.signal);
      return c.text("ok");
    };
    app.get("/with/x", route);
    app.get("/without", route);
    const g = graceful(app, { lifecycle: life, logger: false });
    g.shutdown();
    for (const path of ["/with/x", "/without"]) {
      const request = new Request(`http://test${path}`);
      const response = await (g.fetch as (r: Request) => Promise<Response>)(request);
      assert.equal(await response.text(), "ok");
    }
    assert.deepEqual(seen, [true, true]);
    await g.finished;
  });
});
