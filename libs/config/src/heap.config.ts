import { setFlagsFromString } from 'node:v8';
import { z } from 'zod';
import { loadConfig } from './load-config';

/**
 * How far a worker's heap may grow past what survived its last full garbage collection before the next one.
 *
 * V8 picks that factor itself, up to 4x when collections are fast and memory is plentiful. A syncing consumer keeps
 * about 50 MB alive (its pages in flight, the app) but discards its pages' JSON, rows and query parameters at a
 * high rate, so with V8's own factor its heap filled to ~200 MB of mostly garbage between collections: a peak RSS
 * of 330–370 MB for a live set that stays flat (docs/performance.md, "Consumer memory"). A fixed, smaller factor
 * bounds the peak by the live set rather than by the machine, and it scales with the live set, unlike a heap cap
 * (`--max-old-space-size`), which a worker carrying 10,000 accounts would run into.
 *
 * Set at startup with `v8.setFlagsFromString`: V8 reads the flag each time it computes the next collection's limit.
 */
export interface HeapConfig {
  /** the heap grows to (1 + percent/100) x the live set; 0 leaves V8's own heuristic */
  growingPercent: number;
}

const heapEnv = (defaultPercent: number) =>
  z.object({
    HEAP_GROWING_PERCENT: z.coerce
      .number({ invalid_type_error: 'must be a whole percentage (0 leaves V8 its own heuristic)' })
      .int('must be a whole percentage (0 leaves V8 its own heuristic)')
      .min(0, 'must be 0 (V8 decides) or a percentage from 10 to 300')
      .max(300, 'must be at most 300 (V8 itself grows by at most 300%)')
      .refine((n) => n === 0 || n >= 10, 'must be 0 (V8 decides) or a percentage from 10 to 300')
      .default(defaultPercent),
  });

export function loadHeapConfig(
  app: string,
  defaultPercent: number,
  env: NodeJS.ProcessEnv = process.env,
): HeapConfig {
  return { growingPercent: loadConfig(app, heapEnv(defaultPercent), env).HEAP_GROWING_PERCENT };
}

/** Applies `config` to this process's V8 (call before the app allocates much). */
export function applyHeapConfig(
  config: HeapConfig,
  setFlags: (flags: string) => void = setFlagsFromString,
): void {
  if (config.growingPercent > 0) setFlags(`--heap-growing-percent=${config.growingPercent}`);
}
