import { disposeTestRun } from '../test-run';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__EMAIL_CORE_TEST_RUN__;
  if (!state) return;
  if (process.env.TEST_KEEP_RUN !== 'true') await disposeTestRun(state.run);
  await state.stop();
}
