// Bun.serve({ http2: true, tls }): is HTTP/2 offered in ALPN?
//
//   node_modules/deno/deno run -A tests/compat/repros/bun_http2.ts [<bun binary>]
//
// A raw Bun.serve server (no library) with `http2: true` and a throwaway self-signed certificate
// (openssl). The client (node:tls on the driver) offers h2 and http/1.1 in ALPN.
//
// Bun 1.4.5: ALPN selects h2.
// Bun 1.3.14, 1.2.23 and also 1.4.0: no protocol is selected (the option is ignored): the server
// speaks HTTP/1.1 only.
//
// In the library: the five protocols_test HTTP/2 tests on Bun (tests/fixtures/bun_http2_server.ts:
// h2load, nghttp, raw frames, Node's http2 client) fail on 1.2/1.3 for want of h2; they test a
// runtime feature these lines do not have, not the library.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { binaryFor, isServer, log, startServer, versionOf } from "./_repro.ts";

/** The part of Bun the server role uses (this file is type-checked without Bun's types). */
interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}
interface BunGlobal {
  serve(options: Record<string, unknown>): BunServer;
}
const bun = (globalThis as unknown as { Bun?: BunGlobal }).Bun;

if (isServer()) {
  const server = bun!.serve({
    port: 0,
    hostname: "127.0.0.1",
    http2: true,
    tls: {
      cert: readFileSync(process.env.CERT_FILE!, "utf8"),
      key: readFileSync(process.env.KEY_FILE!, "utf8"),
    },
    fetch: () => new Response("ok"),
  });
  console.log(`listening ${server.port}`);
} else {
  const binary = binaryFor("bun");
  const version = versionOf("bun", binary);
  log(`server on ${version} (${binary})`);
  const dir = mkdtempSync(join(tmpdir(), "bun-h2-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const made = spawnSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-subj",
    "/CN=127.0.0.1",
    "-days",
    "1",
  ]);
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  const server = await startServer("bun", binary, fileURLToPath(import.meta.url), {
    CERT_FILE: cert,
    KEY_FILE: key,
  });
  const socket = tls.connect({
    port: server.port,
    host: "127.0.0.1",
    ALPNProtocols: ["h2", "http/1.1"],
    rejectUnauthorized: false,
  });
  await new Promise((resolve) => socket.once("secureConnect", resolve));
  log(`ALPN: ${JSON.stringify(socket.alpnProtocol)}`);
  console.log(
    `RESULT ${version}: Bun.serve({ http2: true, tls }) ${
      socket.alpnProtocol === "h2" ? "negotiates h2" : "negotiates no h2 (HTTP/1.1 only)"
    }`,
  );
  socket.destroy();
  rmSync(dir, { recursive: true, force: true });
  server.signal("SIGKILL");
  process.exit(0);
}
