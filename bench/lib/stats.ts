// Small statistics for benchmark samples: medians, nearest-rank percentiles, spreads.

/** Sorted copy, ascending. */
function _sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The median (mean of the two middle values for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = _sorted(values);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Nearest-rank percentile: the smallest sample with at least `p`% of the samples at or below it.
 * With 20 samples, p90 is the 18th and p99 the 20th (the max); NaN when empty.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = _sorted(values);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

/** Smallest sample; NaN when empty. */
export function min(values: readonly number[]): number {
  return values.length === 0 ? NaN : Math.min(...values);
}

/** Largest sample; NaN when empty. */
export function max(values: readonly number[]): number {
  return values.length === 0 ? NaN : Math.max(...values);
}

/** Median and range of a set of samples. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** The median with its min–max range. */
export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: min(values), max: max(values), n: values.length };
}

/** A latency distribution as reported for shutdown timings. */
export interface Distribution {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
}

/** p50, p90, p99 (nearest rank), min and max of a sample set. */
export function distribution(values: readonly number[]): Distribution {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: max(values),
    min: min(values),
  };
}

/** Rounds to `digits` decimals, keeping NaN. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A small seeded PRNG (mulberry32), so a run's random orders can be replayed with --seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Percentile bootstrap interval of the median: resamples `values` with replacement `rounds`
 * times and returns the 2.5th and 97.5th percentiles of the resampled medians (NaN when empty).
 * With few values it is wide, which is the point: it says whether a goal can be told apart.
 */
export function medianInterval(
  values: readonly number[],
  random: () => number,
  rounds = 2000,
): { low: number; high: number } {
  if (values.length === 0) return { low: NaN, high: NaN };
  const medians: number[] = [];
  const sample: number[] = new Array(values.length);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < values.length; i++) {
      sample[i] = values[Math.floor(random() * values.length)]!;
    }
    medians.push(median(sample));
  }
  return { low: percentile(medians, 2.5), high: percentile(medians, 97.5) };
}
