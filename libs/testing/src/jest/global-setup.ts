import { resolveStackEndpoints } from '../stack-endpoints';
import { createTestRun, testRunEnv, type TestRunInfo } from '../test-run';
import { provisionProject } from '@email-core/stack/provision';

declare global {
  var __EMAIL_CORE_TEST_RUN__: { runs: TestRunInfo[]; stop: () => Promise<void> } | undefined;
}

/**
 * Once per `jest` run: find the stack, give this run its own database (migrated), topic prefix (topics created)
 * and Redis key prefix, and publish them through the environment that the test workers inherit.
 *
 * With several workers (`--maxWorkers=2`), each worker gets a run of its own, so two files running side by side
 * never share a consumer group (one product's consumer would take the other's commands, against its own emulator),
 * a sweep over every account, or a dead-letter topic: the first run goes into the environment as in band, and
 * every run's environment travels in TEST_RUNS_BY_WORKER, from which ./select-worker-run.ts (the integration
 * project's setup file) takes the one of its JEST_WORKER_ID.
 */
export default async function globalSetup(globalConfig: { maxWorkers?: number } = {}): Promise<void> {
  const log = (m: string) => process.stderr.write(`[test-stack] ${m}\n`);
  const resolved = await resolveStackEndpoints(log);
  const workers = Math.max(1, globalConfig.maxWorkers ?? 1);
  const runs: TestRunInfo[] = [];
  for (let i = 0; i < workers; i += 1) {
    const run = await createTestRun(resolved.endpoints);
    await provisionProject({ ...resolved.endpoints, databaseUrl: run.databaseUrl }, log, {
      topicPrefix: run.topicPrefix,
    });
    runs.push(run);
  }
  const run = runs[0];
  Object.assign(process.env, testRunEnv(run));
  if (runs.length > 1) {
    process.env.TEST_RUNS_BY_WORKER = JSON.stringify(
      Object.fromEntries(runs.map((r, i) => [String(i + 1), testRunEnv(r)])),
    );
  }
  // the mail server (Dovecot + Postfix): the local stack's, or started on its own when the other services came
  // from the environment or containers; the workers read MAIL_* and DEV_MAIL_PASSWORD from the environment
  const { ensureMail, devMailPassword, mailCaFile } = await import('@email-core/stack');
  const mail = resolved.endpoints.mail ?? (await ensureMail({ log }));
  Object.assign(process.env, {
    MAIL_SMTP: mail.smtp,
    MAIL_SUBMISSION: mail.submission,
    MAIL_IMAP: mail.imap,
    MAIL_IMAPS: mail.imaps,
    MAIL_CA_FILE: mailCaFile(),
    DEV_MAIL_PASSWORD: devMailPassword() ?? '',
  });
  globalThis.__EMAIL_CORE_TEST_RUN__ = { runs, stop: resolved.stop };
  for (const [i, r] of runs.entries()) {
    log(
      `run ${r.id}${runs.length > 1 ? ` (worker ${i + 1})` : ''}: database ${r.databaseName}, topics ${r.topicPrefix}*, redis keys ${r.redisKeyPrefix}* (${resolved.source})`,
    );
  }
}
