// What the library's runtime-internal fast paths are in this test run: on Deno, the probes'
// findings unless GRACEFUL_SERVE_INTERNALS=off switched them off (as the library itself decides).

import type { FetchHandler, Graceful, GracefulOptions } from "../../mod.ts";
import { _gracefulOn } from "../../src/graceful.ts";
import { _capabilities } from "../../src/runtime/detect.ts";
import { _denoHost, type _DenoLike } from "../../src/runtime/deno/adapter.ts";
import { type _DenoInternals, _denoInternals } from "../../src/runtime/deno/internals.ts";

/** Whether this run lets the library read runtime internals (Deno, not switched off). */
export const INTERNALS_ON: boolean = "Deno" in globalThis && _capabilities().internals;

/** The fast paths the library uses in this run. */
export const INTERNALS: _DenoInternals = INTERNALS_ON
  ? _denoInternals()
  : { wholeBody: undefined, streamSlots: undefined };

// Off Deno, a stand-in whose upgradeWebSocket the Deno path may wrap (tests make no sockets).
const _deno = (globalThis as { Deno?: _DenoLike }).Deno ??
  ({ upgradeWebSocket: () => ({}), version: { deno: "none" } } as unknown as _DenoLike);

/**
 * graceful() on Deno's response path, on any runtime: tests that hand the wrapper a Deno-like
 * `info` run the Deno code (with this run's internals) under Bun too.
 */
export function gracefulDeno<H extends FetchHandler>(
  handler: H | { fetch: H },
  options?: GracefulOptions,
): Graceful<H> {
  return _gracefulOn(_denoHost(_deno, INTERNALS_ON), handler, options);
}
