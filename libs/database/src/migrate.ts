import type { DataSource } from 'typeorm';

/** A fixed 64-bit key for pg_advisory_lock; every process that migrates takes the same one. */
const MIGRATION_LOCK_KEY = '7450126398114220177';

/**
 * Runs pending migrations while holding a session-level advisory lock, so any number of processes can
 * start at once: one migrates, the others wait and then find nothing left to do.
 */
export async function runMigrationsLocked(
  dataSource: DataSource,
  log: (msg: string) => void = () => undefined,
): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      for (const m of applied) log(`migration applied: ${m.name}`);
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
