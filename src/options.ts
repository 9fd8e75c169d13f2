// Validation of user options: every bad value is a TypeError or RangeError naming the option,
// the value received and what was expected.

/** Renders a received value for an error message. */
export function _show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return `a function`;
  if (Array.isArray(value)) return `an array`;
  if (value === null) return "null";
  if (typeof value === "object") return `an object`;
  return String(value);
}

/** Checks a duration in milliseconds: a finite number >= 0 (or `undefined` for the default). */
export function _duration(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `${where}: "${name}" must be a number of milliseconds, received ${_show(value)}`,
    );
  }
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `${where}: "${name}" must be a finite number >= 0, received ${_show(value)}`,
    );
  }
  return value;
}

/** Checks that an options argument is a plain object (or absent). */
export function _optionsObject(where: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: options must be an object, received ${_show(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Rejects option names that do not exist, so a typo is not silently ignored. */
export function _knownKeys(
  where: string,
  options: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${where}: unknown option "${key}", expected one of ${
          known.map((k) => `"${k}"`).join(", ")
        }`,
      );
    }
  }
}
