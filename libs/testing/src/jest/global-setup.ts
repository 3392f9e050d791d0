import { resolveStackEndpoints } from '../stack-endpoints';
import { createTestRun, testRunEnv, type TestRunInfo } from '../test-run';
import { provisionProject } from '@email-core/stack/provision';

declare global {
  var __EMAIL_CORE_TEST_RUN__: { run: TestRunInfo; stop: () => Promise<void> } | undefined;
}

/**
 * Once per `jest` run: find the stack, give this run its own database (migrated), topic prefix (topics created)
 * and Redis key prefix, and publish them through the environment that the test workers inherit.
 */
export default async function globalSetup(): Promise<void> {
  const log = (m: string) => process.stderr.write(`[test-stack] ${m}\n`);
  const resolved = await resolveStackEndpoints(log);
  const run = await createTestRun(resolved.endpoints);
  await provisionProject({ ...resolved.endpoints, databaseUrl: run.databaseUrl }, log, {
    topicPrefix: run.topicPrefix,
  });
  Object.assign(process.env, testRunEnv(run));
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
  globalThis.__EMAIL_CORE_TEST_RUN__ = { run, stop: resolved.stop };
  log(
    `run ${run.id}: database ${run.databaseName}, topics ${run.topicPrefix}*, redis keys ${run.redisKeyPrefix}* (${resolved.source})`,
  );
}
