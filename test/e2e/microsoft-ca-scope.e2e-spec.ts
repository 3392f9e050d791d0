import fs from 'node:fs';
import path from 'node:path';
import {
  apiCall,
  freePort,
  linkOutlook,
  signUp,
  spawnApp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  waitForHealthy,
  type RunningProduct,
  type SpawnedApp,
} from '@email-core/testing';
import { defaultCertDir } from '@email-core/certs';

const MAILBOX = 'casey.scope@contoso.example';

/** the environment a running process was started with (Linux) */
function environOf(app: SpawnedApp): Record<string, string> {
  const raw = fs.readFileSync(`/proc/${app.child.pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/**
 * Issue 16, defect 8: the producer and consumer trust the emulator's local CA for their Microsoft requests only
 * (MS_CA_FILE, libs/graph), as `npm start` runs them: no NODE_EXTRA_CA_CERTS in their environment, and still
 * they link a mailbox and sync it over the emulator's HTTPS. Without MS_CA_FILE nothing in them trusts the CA.
 */
describe('the apps trust the emulator CA through MS_CA_FILE only', () => {
  let product: RunningProduct;
  const caFile = path.join(defaultCertDir(), 'ca.pem');

  beforeAll(async () => {
    product = await startProduct({ appEnv: { MS_CA_FILE: caFile, LOG_LEVEL: 'warn' } });
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: MAILBOX,
      displayName: 'Casey Scope',
      seed: { messages: 12, folders: 1, seed: 3 },
    });
  }, 180_000);

  afterAll(async () => {
    await product?.stop();
  });

  it('runs the producer and consumer without NODE_EXTRA_CA_CERTS, with MS_CA_FILE naming the CA', () => {
    for (const app of [product.producer, product.consumer]) {
      const env = environOf(app);
      expect(env.NODE_EXTRA_CA_CERTS).toBeUndefined();
      expect(env.MS_CA_FILE).toBe(caFile);
    }
  });

  it('links a mailbox (MSAL: metadata, code redemption; Graph: /me) and syncs it (Graph delta)', async () => {
    const user = await signUp(product.api);
    await linkOutlook(product, user.token, MAILBOX);
    const account = await waitForAccountStatus(product.api, user.token, 'synced');
    const messages = await waitFor(
      async () => {
        const res = await apiCall<{ items: unknown[] }>(
          product.api,
          'GET',
          `/api/v1/accounts/${account.id}/messages?limit=50`,
          { token: user.token },
        );
        return res.status === 200 && res.body.items.length >= 12 ? res.body.items : undefined;
      },
      { timeoutMs: 60_000, what: 'the synced messages' },
    );
    expect(messages.length).toBeGreaterThanOrEqual(12);
  });

  it('without MS_CA_FILE a producer does not trust the emulator: the sign-in cannot start', async () => {
    const port = await freePort();
    const bare = spawnApp('producer', {
      ...product.env,
      PRODUCER_PORT: String(port),
      REALTIME_INSTANCE_ID: 'producer-bare',
      MS_CA_FILE: '',
    });
    try {
      const api = `http://127.0.0.1:${port}`;
      await waitForHealthy(() => bare, `${api}/health`);
      expect(environOf(bare).MS_CA_FILE).toBe('');
      expect(environOf(bare).NODE_EXTRA_CA_CERTS).toBeUndefined();
      const user = await signUp(api);
      const auth = await apiCall<{ error: string }>(api, 'GET', '/api/v1/accounts/outlook/authorize', {
        token: user.token,
      });
      expect(auth.status).toBeGreaterThanOrEqual(500);
      // the same call through the product's producer (MS_CA_FILE set) works
      const trusted = await apiCall(product.api, 'GET', '/api/v1/accounts/outlook/authorize', {
        token: (await signUp(product.api)).token,
      });
      expect(trusted.status).toBe(200);
    } finally {
      await bare.stop();
    }
  }, 120_000);
});
