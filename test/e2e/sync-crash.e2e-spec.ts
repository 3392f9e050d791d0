import { Client } from 'pg';
import {
  currentTestRun,
  linkOutlook,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

/**
 * Crash safety of the initial sync: the consumer is SIGKILLed at random points of a 20,000-message sync and
 * restarted; the mirror still ends exactly equal to the emulator's export, with no duplicate rows.
 */
describe('sync survives consumer crashes', () => {
  let product: RunningProduct;
  const mailbox = 'crash@contoso.example';

  beforeAll(async () => {
    product = await startProduct();
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: mailbox,
      seed: { messages: 20000, folders: 3, seed: 77 },
    });
  }, 120000);

  afterAll(async () => {
    await product?.stop();
  });

  it('kills the consumer three times mid-sync and still converges on the export', async () => {
    const { token } = await signUp(product.api);
    // the callback sends the browser to `/#/accounts?linked=<account id>`
    const accountId = /linked=([0-9a-f-]{36})/.exec(await linkOutlook(product, token, mailbox))?.[1];
    if (!accountId) throw new Error('the callback did not name the linked account');
    const db = new Client({ connectionString: currentTestRun().databaseUrl });
    await db.connect();
    try {
      // this account's rows only: the run's database also holds other files' mailboxes
      const count = async () =>
        Number(
          (
            await db.query<{ n: string }>('SELECT count(*) AS n FROM messages WHERE account_id = $1', [
              accountId,
            ])
          ).rows[0]?.n ?? 0,
        );
      let kills = 0;
      let last = -1;
      while (kills < 3) {
        // wait until the sync has made progress since the last restart, then kill at a random moment
        await waitFor(async () => ((await count()) > last ? true : undefined), {
          timeoutMs: 90000,
          intervalMs: 100,
          what: 'sync progress',
        });
        await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 800)));
        const before = await count();
        if (before >= 20000) break;
        product.consumer.child.kill('SIGKILL');
        await product.consumer.exited;
        kills++;
        last = before;
        await product.restartConsumer();
      }
      expect(kills).toBeGreaterThanOrEqual(1);

      const account = await waitForAccountStatus(product.api, token, 'synced', {
        timeoutMs: 180000,
        intervalMs: 1000,
      });

      const exp = await product.emulator.admin<{
        messages: { immutableId: string; parentFolderId: string; changeKey: string }[];
      }>('GET', `/_emulator/mailboxes/${mailbox}/export?bodies=false`);
      const rows = (
        await db.query<{ remote_id: string; folder_remote_id: string; change_key: string }>(
          'SELECT remote_id, folder_remote_id, change_key FROM messages WHERE account_id = $1',
          [account.id],
        )
      ).rows;
      const bodies = Number(
        (
          await db.query<{ n: string }>('SELECT count(*) AS n FROM message_bodies WHERE account_id = $1', [
            account.id,
          ])
        ).rows[0]?.n,
      );
      expect(rows.length).toBe(20000);
      expect(new Set(rows.map((r) => r.remote_id)).size).toBe(rows.length);
      expect(bodies).toBe(20000);
      const key = (id: string, folder: string, ck: string) => `${id}|${folder}|${ck}`;
      expect(rows.map((r) => key(r.remote_id, r.folder_remote_id, r.change_key)).sort()).toEqual(
        exp.messages.map((m) => key(m.immutableId, m.parentFolderId, m.changeKey)).sort(),
      );
    } finally {
      await db.end();
    }
  }, 600000);
});
