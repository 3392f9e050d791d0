import { loadProducerConfig } from '@email-core/config';
import { AppError } from '../../http/app-error';
import { GetDemoImapQueryHandler } from './get-demo-imap.query-handler';

const base: NodeJS.ProcessEnv = {
  DATABASE_URL: 'postgres://u@127.0.0.1:1/db',
  KAFKA_BROKERS: '127.0.0.1:1',
  REDIS_CLUSTER_NODES: '127.0.0.1:1',
  MS_CLIENT_ID: 'id',
  MS_CLIENT_SECRET: 'client-secret',
  TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  JWT_SECRET: 'a-jwt-secret-that-is-long-enough-1234567890',
};
const demo: NodeJS.ProcessEnv = {
  DEMO_IMAP_EMAIL: 'demo@email-core.localhost',
  DEMO_IMAP_PASSWORD: 'dev-pass',
  DEMO_IMAP_URL: 'imaps://127.0.0.1:2993',
  DEMO_SMTP_URL: 'smtp://127.0.0.1:2587',
};
const handler = (env: NodeJS.ProcessEnv) => new GetDemoImapQueryHandler(loadProducerConfig(env));

describe('GetDemoImapQueryHandler (GET /dev/demo-imap)', () => {
  it('answers the demo settings in the shape of POST /accounts/imap in development', async () => {
    await expect(handler({ ...base, ...demo, NODE_ENV: 'development' }).execute()).resolves.toEqual({
      email: 'demo@email-core.localhost',
      imap: {
        host: '127.0.0.1',
        port: 2993,
        security: 'tls',
        username: 'demo@email-core.localhost',
        password: 'dev-pass',
      },
      smtp: {
        host: '127.0.0.1',
        port: 2587,
        security: 'starttls',
        username: 'demo@email-core.localhost',
        password: 'dev-pass',
      },
    });
  });

  it.each([
    ['test', { ...demo, NODE_ENV: 'test' }],
    ['development without a password', { ...demo, DEMO_IMAP_PASSWORD: undefined, NODE_ENV: 'development' }],
    [
      'development with an SMTP URL for IMAP',
      { ...demo, DEMO_IMAP_URL: 'smtp://h:1', NODE_ENV: 'development' },
    ],
    ['development, nothing set', { NODE_ENV: 'development' }],
  ])('is 404 NOT_FOUND in %s', async (_name, env) => {
    const err = await handler({ ...base, ...env })
      .execute()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', kind: 'not_found' });
  });
});
