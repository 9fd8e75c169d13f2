// Release numbers: the supported range, and the comparisons that choose a workaround where no
// feature test can tell (each caller names the releases and the behaviour in a comment).

/** The oldest release of each runtime the library is tested on (the support table). */
export const _SUPPORTED = { deno: "2.2.0", bun: "1.2.0" } as const;

/** Whether release `version` ("2.5.7", "1.3.14-canary…") is older than `than`. */
export function _olderThan(version: string | undefined, than: string): boolean {
  if (version === undefined) return false;
  const a = version.split(/[.+-]/, 3).map(Number);
  const b = than.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (Number.isNaN(x)) return false;
    if (x !== y) return x < y;
  }
  return false;
}

/** The warning for a release below the supported range, or undefined. */
export function _belowRange(name: "deno" | "bun", version: string | undefined): string | undefined {
  const oldest = _SUPPORTED[name];
  if (!_olderThan(version, oldest)) return undefined;
  const runtime = name === "deno" ? "Deno" : "Bun";
  return `${runtime} ${version} is older than the supported range (${runtime} ${oldest} and ` +
    `later): shutdowns may lose requests or hang; upgrade the runtime`;
}
