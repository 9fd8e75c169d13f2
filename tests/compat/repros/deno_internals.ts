// What the library's Deno fast paths rely on, as each Deno release has it.
//
//   node_modules/deno/deno run -A tests/compat/repros/deno_internals.ts [<deno binary>]
//
// The server role prints: the descriptions of the own symbol-keyed slots of `new Response("")`,
// of a ReadableStream with a default source, of its controller and of its default reader;
// the property descriptor of `Deno.upgradeWebSocket`; whether the `info` given to a handler has
// `completed`; and how many arguments Deno.serve passes to a handler that declares none.
//
// Deno 2.9.5: Response has "serve fast body" and the other "serve fast ..." / "lazy static ..."
// slots; `upgradeWebSocket` is an accessor (get/set); a handler declaring no parameters is called
// with 0 arguments (the fast path the library keeps: deno_serve_test "is kept: the wrapper
// declares none and Deno calls it with no arguments").
// Deno 2.5.7 and 2.2.15: Response has only "response", "headers", "[[webidl.brand]]";
// `upgradeWebSocket` is a writable data property (replaceable by assignment all the same); every
// handler gets 2 arguments (request, info), so that in-process test fails ('2' !== '0'); the
// stream slots the library reads ("[[controller]]", "[[state]]", "[[reader]]",
// "[[resourceBacking]]", "[[closeRequested]]", "[[cancelAlgorithm]]", "[[stream]]",
// "[[readRequests]]" with a `size`) are all there, and `info.completed` exists (a getter on the
// prototype) on all three.
// Other releases checked: 2.6.8 and 2.7.14 as 2.5.7. 2.8.2: no "serve fast ..." slots, 2
// arguments, and `upgradeWebSocket` a getter-only accessor: assigning it throws "Cannot set
// property upgradeWebSocket of #<Object> which has only a getter" (Object.defineProperty works,
// it is configurable on every line). 2.8.3: as 2.9.5. The fast Response paths come from
// denoland/deno#32736 ("optimize Deno.serve() hot path", March 2026).

import process from "node:process";
import { fileURLToPath } from "node:url";
import { binaryFor, isServer, log, startServer, versionOf } from "./_repro.ts";

if (isServer()) {
  const describe = (value: object): string =>
    JSON.stringify(Object.getOwnPropertySymbols(value).map((s) => s.description));
  console.log(`Response(""): ${describe(new Response(""))}`);
  let controller: ReadableStreamDefaultController | undefined;
  const stream = new ReadableStream({
    start(c) {
      controller = c;
    },
  });
  console.log(`ReadableStream: ${describe(stream)}`);
  console.log(`its controller: ${describe(controller!)}`);
  const reader = stream.getReader();
  console.log(`its reader: ${describe(reader)}`);
  const requests = Object.getOwnPropertySymbols(reader).find((s) =>
    s.description === "[[readRequests]]"
  );
  const queue = requests && (reader as unknown as Record<symbol, { size?: unknown }>)[requests];
  console.log(`reader [[readRequests]].size: ${typeof queue?.size}`);
  const descriptor = Object.getOwnPropertyDescriptor(Deno, "upgradeWebSocket")!;
  console.log(
    `Deno.upgradeWebSocket: ${
      "get" in descriptor && descriptor.get !== undefined
        ? `accessor (set: ${descriptor.set !== undefined})`
        : `data property (writable: ${descriptor.writable})`
    }, configurable: ${descriptor.configurable}`,
  );
  let noParameterArgs = -1;
  const servers = [
    Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (_request, info) =>
      new Response(
        `"completed" in info: ${"completed" in info}, a ${typeof info.completed}` +
          `, own property: ${Object.hasOwn(info, "completed")}`,
      )),
    Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, function () {
      noParameterArgs = arguments.length;
      return new Response("ok");
    }),
  ];
  console.log(`info: ${await (await fetch(`http://127.0.0.1:${servers[0]!.addr.port}/`)).text()}`);
  await (await fetch(`http://127.0.0.1:${servers[1]!.addr.port}/`)).text();
  console.log(`a handler declaring no parameters is called with ${noParameterArgs} argument(s)`);
  for (const server of servers) await server.shutdown();
  console.log("listening 0");
  console.log("done");
} else {
  const binary = binaryFor("deno");
  const version = versionOf("deno", binary);
  log(`server on ${version} (${binary})`);
  const server = await startServer("deno", binary, fileURLToPath(import.meta.url));
  await server.waitFor("done", 10_000);
  const said = (prefix: string): string =>
    server.lines().find((line) => line.startsWith(prefix))?.slice(prefix.length) ?? "?";
  const response = JSON.parse(said('Response(""): ')) as string[];
  console.log(
    `RESULT ${version}: Response slots ${response.length} (${
      response.includes("serve fast body") ? "with" : "without"
    } "serve fast body"); upgradeWebSocket ${said("Deno.upgradeWebSocket: ")}; info ${
      said("info: ")
    }; no-parameter handler gets ${said("a handler declaring no parameters is called with ")}`,
  );
  process.exit(0);
}
