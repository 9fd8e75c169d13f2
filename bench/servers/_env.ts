// What the bench fixtures read from the environment, checked: a choice among names, and PORT.

import process from "node:process";

/** `name` from the environment, one of `allowed`; `fallback` when unset or empty. */
export function choice<T extends string>(
  name: string,
  allowed: readonly T[],
  fallback: T,
  fixture = "hello",
): T {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new TypeError(
      `${fixture}: ${name} must be one of ${allowed.join(", ")}, received ${JSON.stringify(raw)}`,
    );
  }
  return raw as T;
}

/** PORT from the environment (0, the default, picks a free port). */
export function port(fixture = "hello"): number {
  const raw = process.env.PORT ?? "0";
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`${fixture}: PORT must be an integer in 0..65535, received ${raw}`);
  }
  return value;
}
