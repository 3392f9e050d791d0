import { disposeTestRun } from '../test-run';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__EMAIL_CORE_TEST_RUN__;
  if (!state) return;
  if (process.env.TEST_KEEP_RUN !== 'true') {
    for (const run of state.runs) await disposeTestRun(run);
  }
  await state.stop();
}
