// Runtime detection, in one place, by feature, when called (never at import time).

import { _bunRuntime, _bunServer, _isBunServer } from "./bun.ts";
import {
  _denoRuntime,
  _denoServer,
  _denoStreamSlots,
  _denoWholeBodyTest,
  _isDenoServer,
  type _StreamSlots,
  _trackDenoUpgrades,
  type _WholeBodyTest,
} from "./deno.ts";
import type { Runtime, RuntimeServer } from "./types.ts";

/** The runtime this code runs on. */
export function _detectRuntime(where: string): Runtime {
  if ("Deno" in globalThis) return _denoRuntime();
  if ("Bun" in globalThis) return _bunRuntime();
  throw new Error(
    `${where}: unsupported runtime (neither Deno nor Bun was found); ` +
      `use graceful() and close your server yourself`,
  );
}

/** Adapts a runtime server (`Deno.HttpServer` or Bun's `Server`) for the shutdown sequence. */
export function _adaptServer(where: string, server: unknown): RuntimeServer {
  if (_isDenoServer(server)) return _denoServer(server);
  if (_isBunServer(server)) return _bunServer(server);
  throw new TypeError(
    `${where}: expected the server returned by Deno.serve() or Bun.serve(), received ${
      server === null
        ? "null"
        : typeof server === "object"
        ? "an object without shutdown()/stop()"
        : typeof server
    }`,
  );
}

/** Starts tracking WebSocket upgrades where the runtime needs it (Deno); idempotent. */
export function _trackUpgrades(): void {
  if ("Deno" in globalThis) _trackDenoUpgrades();
}

/** A cheap test for responses with nothing left to stream, where the runtime offers one (Deno). */
export function _wholeBodyTest(): _WholeBodyTest | undefined {
  return "Deno" in globalThis ? _denoWholeBodyTest() : undefined;
}

/** How to end a response stream in place, where the runtime allows it (Deno). */
export function _streamSlots(): _StreamSlots | undefined {
  return "Deno" in globalThis ? _denoStreamSlots() : undefined;
}
