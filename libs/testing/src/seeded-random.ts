/**
 * A small deterministic PRNG (a linear congruential generator) returning numbers in [0, 1): a test that
 * shuffles or jitters with it replays the same choices from the same seed when it fails.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
