/**
 * The integration project's setup file: with several Jest workers, global setup made one test run per worker
 * (./global-setup.ts) and published each one's environment in TEST_RUNS_BY_WORKER; this file's worker takes its
 * own, so everything the test reads from the environment (currentTestRun(), the apps it spawns) is that run's. In
 * band there is one run, already in the environment, and nothing changes.
 */
const byWorker = process.env.TEST_RUNS_BY_WORKER;
if (byWorker) {
  const worker = process.env.JEST_WORKER_ID ?? '1';
  const env = (JSON.parse(byWorker) as Record<string, Record<string, string> | undefined>)[worker];
  if (!env) throw new Error(`TEST_RUNS_BY_WORKER has no run for Jest worker ${worker}`);
  Object.assign(process.env, env);
}

export {};
