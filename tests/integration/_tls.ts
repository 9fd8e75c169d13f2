// A throwaway self-signed certificate for 127.0.0.1, made once by openssl, for the tests that
// serve TLS (HTTP/2 among them): `tlsEnv()` gives the demo's TLS_CERT_FILE and TLS_KEY_FILE.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

let _certificate: { dir: string; env: Record<string, string> } | undefined;

/** TLS_CERT_FILE and TLS_KEY_FILE of a self-signed certificate for 127.0.0.1 (made once). */
export function tlsEnv(): Record<string, string> {
  if (_certificate) return _certificate.env;
  const dir = mkdtempSync(path.join(os.tmpdir(), "graceful-tls-"));
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  const made = spawnSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ], { encoding: "utf8" });
  if (made.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`openssl could not make a certificate: ${made.stderr}`);
  }
  _certificate = { dir, env: { TLS_CERT_FILE: cert, TLS_KEY_FILE: key } };
  return _certificate.env;
}

/** Removes the certificate (after); the next tlsEnv() makes a new one. */
export function removeCertificate(): void {
  if (_certificate) rmSync(_certificate.dir, { recursive: true, force: true });
  _certificate = undefined;
}
