/**
 * The IMAP provider under real faults of the stack's own mail server (issue 19): Dovecot restarted in the middle of
 * an initial sync and under a live IDLE watch, a folder's UIDVALIDITY changed as by a server restored from a backup,
 * the consumer SIGKILLed in the middle of a sync, and the server changing a mailbox's password. After each, the
 * mirror must equal a ground-truth read of the server (folders, counts, every message by UIDVALIDITY and UID with
 * its flags, subject, sender and body), with no duplicate row, no lag, no dead letter and a quiet window with no
 * IMAP login (no reconnect loop). Runs in the fault suite, alone: it restarts the mail server every test shares.
 */
import { randomBytes } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { createTransport } from 'nodemailer';
import { Client } from 'pg';
import { bulkMailboxFolders, fillMailbox } from '@email-core/stack';
import {
  changeOwnUidValidity,
  kickOwnMailbox,
  ownImapConnections,
  parseMailEndpoint,
  restartOwnDovecot,
  setOwnMailboxPassword,
} from '@email-core/stack/mail-server';
import {
  apiCall,
  devImapLinkBody,
  devImapSession,
  devMailServer,
  devMailTarget,
  expectConverged,
  imapTruth,
  linkDevImap,
  recordScenario,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type DevMailServer,
  type RunningProduct,
} from '@email-core/testing';

const BIG = 3_000;
const SMALL = 400;
/** messages mirrored when the fault strikes: well into the initial sync, far from its end */
const STRIKE_AT = 600;

describe('IMAP provider under mail-server and consumer faults', () => {
  let mail: DevMailServer;
  let product: RunningProduct;
  let db: Client;
  const tag = randomBytes(4).toString('hex');
  const addressOf = (name: string) => `${name}-${tag}@imap-faults.test`;

  beforeAll(async () => {
    const server = devMailServer();
    if (!server) throw new Error('no dev mail server: run `npm run stack:up` (MAIL_IMAP, MAIL_SUBMISSION)');
    mail = server;
    // topics and consumer groups of its own: this product's consumer owns every pokes partition, so its IDLE
    // watcher holds these accounts
    product = await startProduct({ isolated: true, appEnv: { LOG_LEVEL: 'warn' } });
    db = new Client({ connectionString: product.databaseUrl });
    db.on('error', () => undefined);
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await product?.stop();
  });

  const fill = (address: string, messages: number, seed: number) =>
    fillMailbox(devMailTarget(mail, address), {
      folders: bulkMailboxFolders(messages),
      seed,
      now: new Date('2026-12-01T09:00:00Z'),
      sessions: 4,
    });

  const mirrored = async (accountId: string, folder?: string): Promise<number> =>
    Number(
      (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM messages WHERE account_id = $1 AND ($2::text IS NULL OR folder_remote_id = $2)`,
          [accountId, folder ?? null],
        )
      ).rows[0].n,
    );

  const waitMirrored = (accountId: string, atLeast: number) =>
    waitFor(async () => ((await mirrored(accountId)) >= atLeast ? mirrored(accountId) : undefined), {
      timeoutMs: 120_000,
      intervalMs: 50,
      what: `${atLeast} messages mirrored`,
    });

  const linkAndSync = async (address: string) => {
    const user = await signUp(product.api);
    const accountId = await linkDevImap(product.api, user.token, mail, address);
    return { user, accountId };
  };

  const session = async <T>(address: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> => {
    const client = devImapSession(mail, address);
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  };

  const deliver = async (to: string, subject: string) => {
    const endpoint = process.env.MAIL_SMTP;
    if (!endpoint) throw new Error("MAIL_SMTP is not set (libs/testing's global setup sets it)");
    const smtp = parseMailEndpoint(endpoint);
    const transport = createTransport({ host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true });
    try {
      await transport.sendMail({ from: 'someone@elsewhere.example', to, subject, text: subject });
    } finally {
      transport.close();
    }
  };

  /** another client's changes: flags on three INBOX messages, two moved to Archive, two expunged */
  const changeElsewhere = (address: string) =>
    session(address, async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const uids = (await client.search({ all: true }, { uid: true })) || [];
        if (uids.length < 7) throw new Error(`INBOX has only ${uids.length} messages`);
        await client.messageFlagsAdd(uids.slice(0, 3).join(','), ['\\Flagged'], { uid: true });
        await client.messageMove(uids.slice(3, 5).join(','), 'Archive', { uid: true });
        await client.messageDelete(uids.slice(5, 7).join(','), { uid: true });
      } finally {
        lock.release();
      }
    });

  it('Dovecot restarted mid-sync, then again under the IDLE watch with changes made meanwhile: the mirror equals the server', async () => {
    const t0 = Date.now();
    const address = addressOf('restart');
    await fill(address, BIG, 191);
    const { user, accountId } = await linkAndSync(address);

    const atRestart = await waitMirrored(accountId, STRIKE_AT);
    const restartStarted = Date.now();
    await restartOwnDovecot(2_000);
    const downMs = Date.now() - restartStarted;
    await waitForAccountStatus(product.api, user.token, 'synced', { accountId, timeoutMs: 180_000 });

    // live: a change elsewhere reaches the mirror through the watch before the second restart
    const probe = `live probe ${tag}`;
    await deliver(address, probe);
    await waitFor(
      async () =>
        (await db.query(`SELECT 1 FROM messages WHERE account_id = $1 AND subject = $2`, [accountId, probe]))
          .rowCount
          ? true
          : undefined,
      { timeoutMs: 30_000, intervalMs: 100, what: 'the probe mail in the mirror' },
    );
    // the watch is cut by the restart; changes made right after it, before the watcher is back, must arrive
    // through the resynchronisation on reconnect
    await restartOwnDovecot(1_000);
    await changeElsewhere(address);
    await deliver(address, `after restart ${tag}`);

    const converged = await expectConverged(product, [{ accountId, address }], {
      source: imapTruth(mail),
      timeoutMs: 180_000,
    });
    expect(converged.messages).toBe(BIG + 2 - 2); // +2 delivered, -2 expunged (moves stay)
    expect(converged.duplicateRows).toBe(0);
    expect(converged.deadLetters).toBe(0);
    recordScenario({
      scenario: 'IMAP: Dovecot restarted mid-sync and under the IDLE watch (changes made while it was back)',
      file: __filename,
      faults: [
        `Dovecot SIGTERMed at ${atRestart} of ${BIG} messages mirrored, down ${downMs} ms`,
        'Dovecot restarted again under the IDLE watch; 3 flags, 2 moves, 2 expunges and 1 delivery right after',
      ],
      compared: { mirroredAtRestart: atRestart },
      converged,
      durationMs: Date.now() - t0,
    });
  }, 600_000);

  it("a folder's UIDVALIDITY changed: the folder is rebuilt under its new UIDs, its rows kept until the rebuild ends", async () => {
    const t0 = Date.now();
    const address = addressOf('uidvalidity');
    await fill(address, SMALL, 192);
    const { user, accountId } = await linkAndSync(address);
    await waitForAccountStatus(product.api, user.token, 'synced', { accountId, timeoutMs: 120_000 });
    const folder = 'Archive/2025';
    const before = await mirrored(accountId, folder);
    expect(before).toBeGreaterThan(10);

    // sample the folder's mirrored rows throughout: the rebuild never leaves it emptier than it was
    let lowest = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        lowest = Math.min(lowest, await mirrored(accountId, folder));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const uidValidity = await changeOwnUidValidity(address, folder);
    let converged;
    try {
      converged = await expectConverged(product, [{ accountId, address }], {
        source: imapTruth(mail),
        timeoutMs: 120_000,
      });
    } finally {
      sampling = false;
      await sampler;
    }
    const ids = await db.query<{ remote_id: string }>(
      `SELECT remote_id FROM messages WHERE account_id = $1 AND folder_remote_id = $2`,
      [accountId, folder],
    );
    // every id of the folder names the new UIDVALIDITY (the ids are uidValidity.uid.path)
    expect(ids.rows.every((r) => r.remote_id.startsWith(`${uidValidity}.`))).toBe(true);
    expect(ids.rowCount).toBe(before);
    expect(lowest).toBeGreaterThanOrEqual(before);
    recordScenario({
      scenario: "IMAP: a folder's UIDVALIDITY changed (doveadm mailbox update, as a restored server)",
      file: __filename,
      faults: [`${folder} of a ${SMALL}-message mailbox given UIDVALIDITY ${uidValidity}`],
      compared: { folderMessages: before, fewestRowsDuringRebuild: lowest },
      converged,
      durationMs: Date.now() - t0,
    });
  }, 300_000);

  it('the consumer SIGKILLed mid-sync: restarted, the sync ends with nothing lost or duplicated', async () => {
    const t0 = Date.now();
    const address = addressOf('sigkill');
    await fill(address, BIG, 193);
    const { user, accountId } = await linkAndSync(address);
    const atKill = await waitMirrored(accountId, STRIKE_AT);
    product.consumer.child.kill('SIGKILL');
    const killed = Date.now();
    await product.restartConsumer();
    const downMs = Date.now() - killed;
    await waitForAccountStatus(product.api, user.token, 'synced', { accountId, timeoutMs: 180_000 });
    const converged = await expectConverged(product, [{ accountId, address }], {
      source: imapTruth(mail),
      timeoutMs: 180_000,
    });
    expect(converged.messages).toBe(BIG);
    expect(converged.duplicateRows).toBe(0);
    recordScenario({
      scenario: 'IMAP: the consumer SIGKILLed mid-sync and restarted',
      file: __filename,
      faults: [
        `consumer SIGKILLed at ${atKill} of ${BIG} messages mirrored, healthy again after ${downMs} ms`,
      ],
      compared: { mirroredAtKill: atKill },
      converged,
      durationMs: Date.now() - t0,
    });
  }, 600_000);

  it('the server changes the password: reauth_required with the mail kept, and reconnecting with the new one works', async () => {
    const t0 = Date.now();
    const address = addressOf('password');
    await fill(address, SMALL, 194);
    const { user, accountId } = await linkAndSync(address);
    await waitForAccountStatus(product.api, user.token, 'synced', { accountId, timeoutMs: 120_000 });
    const kept = await mirrored(accountId);
    expect(kept).toBe(SMALL);

    // the IDLE watch holds its connection (the watcher takes new accounts at its refresh)
    await waitFor(async () => ((await ownImapConnections(address)) >= 1 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the IDLE watch of the account',
    });
    const newPassword = `changed-${randomBytes(6).toString('hex')}`;
    await setOwnMailboxPassword(address, newPassword);
    try {
      // the server ends the sessions it had (the IDLE watch among them); the watcher's next login is refused
      const kicked = await kickOwnMailbox(address);
      expect(kicked).toBeGreaterThanOrEqual(1);
      await deliver(address, `while reauth is required ${tag}`);
      const account = await waitForAccountStatus(product.api, user.token, 'reauth_required', {
        accountId,
        timeoutMs: 90_000,
      });
      expect(account.status).toBe('reauth_required');
      expect(await mirrored(accountId)).toBe(kept);
      // the list and a message still read from the mirror meanwhile
      const list = await apiCall<{ items: unknown[] }>(
        product.api,
        'GET',
        `/api/v1/accounts/${accountId}/messages?limit=5`,
        { token: user.token },
      );
      expect(list.status).toBe(200);
      expect(list.body.items.length).toBe(5);

      // Reconnect: the old password is refused with its code, the new one links the same account again
      const refused = await apiCall<{ error?: string }>(product.api, 'POST', '/api/v1/accounts/imap', {
        token: user.token,
        body: devImapLinkBody(mail, address),
      });
      expect(refused.status).toBe(422);
      expect(refused.body.error).toBe('IMAP_AUTH_FAILED');
      const relinked = await linkDevImap(product.api, user.token, mail, address, newPassword);
      expect(relinked).toBe(accountId);
      await waitForAccountStatus(product.api, user.token, 'synced', { accountId, timeoutMs: 120_000 });
      const converged = await expectConverged(product, [{ accountId, address }], {
        source: imapTruth(mail, { [address]: newPassword }),
        timeoutMs: 120_000,
      });
      expect(converged.messages).toBe(SMALL + 1);
      recordScenario({
        scenario: 'IMAP: the server changed the password (reauth_required, mail kept, reconnected)',
        file: __filename,
        faults: [
          `password changed and ${kicked} session(s) kicked; 1 mail delivered while reauth was required`,
        ],
        compared: { keptWhileReauth: kept, oldPasswordRefused: refused.body.error ?? '' },
        converged,
        durationMs: Date.now() - t0,
      });
    } finally {
      await setOwnMailboxPassword(address, undefined);
    }
  }, 300_000);
});
