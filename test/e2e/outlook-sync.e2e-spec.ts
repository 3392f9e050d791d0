import { Kafka } from 'kafkajs';
import { subscribeWhenReady } from '@email-core/kafka';
import { Client } from 'pg';
import {
  apiCall,
  currentTestRun,
  linkOutlook,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

interface ExportMessage {
  immutableId: string;
  parentFolderId: string;
  subject: string;
  from: { emailAddress: { name: string; address: string } };
  toRecipients: { emailAddress: { name: string; address: string } }[];
  isRead: boolean;
  flag: { flagStatus: string };
  body: { contentType: string; content: string };
}

interface ApiMessage {
  id: string;
  folderId: string;
  subject: string;
  from: { name: string; address: string } | null;
  toRecipients: { name: string; address: string }[];
  isRead: boolean;
  flagStatus: string;
  body?: { contentType: string; content: string };
}

const list = <T>(body: unknown): T[] =>
  Array.isArray(body) ? (body as T[]) : ((body as { items: T[] }).items ?? []);

/** what leaks would look like: JWTs (our emulator's access tokens and id tokens) and its refresh tokens */
const SECRET_PATTERNS = [/eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}/, /0\.A[A-Za-z0-9_-]{100,}/];

/**
 * Issue 4, end to end on the real stack and the emulator: sign up, link through the emulator's sign-in form,
 * wait for the sync to complete, and the API's view of a 5,000-message mailbox equals the emulator's export.
 */
describe('link an Outlook account and mirror the whole mailbox', () => {
  let product: RunningProduct;
  const responses: string[] = [];
  const mailbox = 'mirror@contoso.example';
  let linked: { token: string; accountId: string } | undefined;

  beforeAll(async () => {
    product = await startProduct();
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: mailbox,
      displayName: 'Mirror Test',
      password: 'mailbox-password',
      seed: { messages: 5000, folders: 3, seed: 2026 },
    });
  }, 120000);

  afterAll(async () => {
    await product?.stop();
  });

  const call = async <T>(
    method: string,
    path: string,
    token: string,
  ): Promise<{ status: number; body: T }> => {
    const res = await apiCall<T>(product.api, method, path, { token });
    responses.push(JSON.stringify(res.body));
    return res;
  };

  it('syncs every folder and message, and the API shows exactly the export', async () => {
    const { token } = await signUp(product.api);
    const landing = await linkOutlook(product, token, mailbox, 'mailbox-password');
    expect(landing).toContain('/#/accounts');

    const account = await waitForAccountStatus(product.api, token, 'synced');
    await call('GET', '/api/v1/accounts', token); // scanned for tokens with every other response

    const exp = await product.emulator.admin<{
      folders: { id: string; totalItemCount: number; isHidden: boolean }[];
      messages: ExportMessage[];
    }>('GET', `/_emulator/mailboxes/${mailbox}/export`);
    const folders = list<{ id: string; totalCount: number; parentId: string | null }>(
      (await call('GET', `/api/v1/accounts/${account.id}/folders`, token)).body,
    );
    const withMail = exp.folders.filter((f) => f.totalItemCount > 0);
    expect(withMail.length).toBeGreaterThanOrEqual(8);
    linked = { token, accountId: account.id };
    // hidden folders (Scheduled, Sync Issues) are not listed by Graph without includeHiddenFolders, and not synced
    const visible = exp.folders.filter((f) => !f.isHidden);
    expect(folders.map((f) => f.id).sort()).toEqual(visible.map((f) => f.id).sort());
    for (const f of visible) expect(folders.find((x) => x.id === f.id)?.totalCount).toBe(f.totalItemCount);

    // every message of every folder through the API, paged
    const seen = new Map<string, ApiMessage>();
    for (const f of folders) {
      let cursor: string | undefined;
      do {
        const page = await call<{ items: ApiMessage[]; nextCursor: string | null }>(
          'GET',
          `/api/v1/accounts/${account.id}/messages?folderId=${encodeURIComponent(f.id)}&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
          token,
        );
        expect(page.status).toBe(200);
        for (const m of page.body.items) {
          expect(seen.has(m.id)).toBe(false);
          seen.set(m.id, m);
        }
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor);
    }
    expect(seen.size).toBe(exp.messages.length);
    expect(exp.messages.length).toBe(5000);

    const project = (m: ExportMessage) => ({
      id: m.immutableId,
      folderId: m.parentFolderId,
      subject: m.subject,
      from: m.from.emailAddress.address,
      to: m.toRecipients.map((r) => r.emailAddress.address),
      isRead: m.isRead,
      flagStatus: m.flag.flagStatus,
    });
    const fromApi = (m: ApiMessage) => ({
      id: m.id,
      folderId: m.folderId,
      subject: m.subject,
      from: m.from?.address ?? '',
      to: m.toRecipients.map((r) => r.address),
      isRead: m.isRead,
      flagStatus: m.flagStatus,
    });
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect([...seen.values()].map(fromApi).sort(byId)).toEqual(exp.messages.map(project).sort(byId));

    // bodies: every one, through the single-message endpoint
    const queue = [...exp.messages];
    const worker = async () => {
      for (let m = queue.pop(); m; m = queue.pop()) {
        const res = await call<ApiMessage>(
          'GET',
          `/api/v1/accounts/${account.id}/messages/${encodeURIComponent(m.immutableId)}`,
          token,
        );
        expect(res.status).toBe(200);
        expect(res.body.body).toEqual({ contentType: m.body.contentType, content: m.body.content });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }, 300000);

  it('a revoked refresh token puts the account in reauth_required and keeps its mail', async () => {
    if (!linked) throw new Error('needs the synced account of the previous test');
    const { token, accountId } = linked;
    await product.emulator.admin('POST', '/_emulator/faults', { revokeRefreshTokens: mailbox });
    // the stored access token is due, so the next Graph call must refresh (a fresh consumer has no copy in memory)
    const db = new Client({ connectionString: currentTestRun().databaseUrl });
    await db.connect();
    try {
      await db.query(
        `UPDATE mail_accounts SET access_token_expires_at = now() - interval '1 hour' WHERE id = $1`,
        [accountId],
      );
    } finally {
      await db.end();
    }
    await product.restartConsumer();
    expect((await call('POST', `/api/v1/accounts/${accountId}/resync`, token)).status).toBe(202);
    await waitForAccountStatus(product.api, token, 'reauth_required', { accountId, timeoutMs: 60000 });
    await call('GET', '/api/v1/accounts', token);
    const folders = list<{ totalCount: number }>(
      (await call('GET', `/api/v1/accounts/${accountId}/folders`, token)).body,
    );
    expect(folders.reduce((n, f) => n + f.totalCount, 0)).toBe(5000);
  }, 120000);

  it('no token appears in a log line, a Kafka message or an API response', async () => {
    const output = product.producer.output() + product.consumer.output();
    for (const p of SECRET_PATTERNS) expect(output).not.toMatch(p);
    const bodies = responses.join('\n');
    for (const p of SECRET_PATTERNS) expect(bodies).not.toMatch(p);

    const run = currentTestRun();
    const kafka = new Kafka({ clientId: 'leak-scan', brokers: run.kafkaBrokers, logLevel: 0 });
    const admin = kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(run.topicPrefix));
    await admin.disconnect();
    const consumer = kafka.consumer({ groupId: `leak-scan-${Date.now()}` });
    await consumer.connect();
    await subscribeWhenReady(consumer, { topics, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({
      eachMessage: ({ message }) => {
        values.push(message.value?.toString() ?? '');
        return Promise.resolve();
      },
    });
    await waitFor(() => Promise.resolve(values.length > 0 ? true : undefined), {
      timeoutMs: 20000,
      what: 'kafka messages',
    });
    await new Promise((r) => setTimeout(r, 2000));
    await consumer.disconnect();
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) for (const p of SECRET_PATTERNS) expect(v).not.toMatch(p);
  }, 60000);
});
