import { HttpException, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { TokenCipher } from '@email-core/crypto';
import type {
  MailAccountsRepository,
  MailAccountTokensRepository,
  SealedTokenColumns,
} from '@email-core/database';
import {
  ImapCredentialVault,
  MAIL_LINK_FAILURES,
  MailLinkCheckError,
  type ImapAccountSettings,
} from '@email-core/providers';
import type { SyncRequestOutbox } from '../../sync-request-outbox';
import { LinkImapAccountCommand } from './link-imap-account.command';
import type { AccountWrites } from '../../account-writes';
import { LinkImapAccountHandler } from './link-imap-account.handler';

const PASSWORD = 'imap-pass-do-not-leak';
const SMTP_PASSWORD = 'smtp-pass-do-not-leak';
const ACCOUNT = '5b6f8c3e-7d1a-4c2b-9e0f-1a2b3c4d5e6f';

const settings = (): ImapAccountSettings => ({
  email: 'Alice@Example.com',
  imap: { host: 'imap.example.com', port: 993, security: 'tls', username: 'alice', password: PASSWORD },
  smtp: {
    host: 'smtp.example.com',
    port: 587,
    security: 'starttls',
    username: 'alice',
    password: SMTP_PASSWORD,
  },
});

function setup(opts: { probe?: () => Promise<void>; created?: boolean } = {}) {
  const manager = {} as EntityManager;
  const calls: string[] = [];
  const probe = { check: jest.fn(opts.probe ?? (() => Promise.resolve())) };
  const accounts = {
    upsertLinked: jest.fn(() => {
      calls.push('upsertLinked');
      return Promise.resolve({ id: ACCOUNT, created: opts.created ?? true });
    }),
  };
  const stored: SealedTokenColumns[] = [];
  const tokens = {
    saveTokens: jest.fn((_m: EntityManager, _id: string, sealed: SealedTokenColumns) => {
      calls.push('saveTokens');
      stored.push(sealed);
      return Promise.resolve(1);
    }),
  };
  const syncRequests = {
    add: jest.fn(() => {
      calls.push('syncRequest');
      return Promise.resolve();
    }),
    committed: jest.fn(() => calls.push('committed')),
  };
  const dataSource = {
    transaction: jest.fn(async <T>(work: (m: EntityManager) => Promise<T>) => {
      calls.push('begin');
      const result = await work(manager);
      calls.push('commit');
      return result;
    }),
  };
  const cipher = new TokenCipher([{ id: 'k1', key: randomBytes(32) }]);
  const vault = new ImapCredentialVault(cipher, {} as MailAccountTokensRepository);
  const handler = new LinkImapAccountHandler(
    probe,
    vault,
    accounts as unknown as MailAccountsRepository,
    tokens as unknown as MailAccountTokensRepository,
    syncRequests as unknown as SyncRequestOutbox,
    dataSource as unknown as DataSource,
    {
      committed: jest.fn(() => {
        calls.push('recorded');
        return Promise.resolve();
      }),
    } as unknown as AccountWrites,
  );
  return { handler, probe, accounts, tokens, syncRequests, dataSource, manager, calls, stored, vault };
}

describe('LinkImapAccountHandler', () => {
  let logged: string[];
  beforeEach(() => {
    logged = [];
    for (const level of ['log', 'warn', 'error', 'debug', 'verbose'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => String(a)).join(' '));
      });
    }
  });
  afterEach(() => {
    jest.restoreAllMocks();
    // nothing the handler logged, on any path, carries a password
    for (const line of logged) {
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain(SMTP_PASSWORD);
    }
  });

  it('checks the servers, then stores the account, its sealed settings and the sync request in one transaction', async () => {
    const t = setup();
    const result = await t.handler.execute(new LinkImapAccountCommand('user-1', settings()));

    expect(result).toEqual({ accountId: ACCOUNT, created: true });
    expect(t.probe.check).toHaveBeenCalledWith(settings());
    expect(t.calls).toEqual([
      'begin',
      'upsertLinked',
      'saveTokens',
      'syncRequest',
      'commit',
      'committed',
      'recorded',
    ]);
    expect(t.accounts.upsertLinked).toHaveBeenCalledWith(t.manager, {
      userId: 'user-1',
      provider: 'imap',
      externalUserId: 'alice@example.com',
      email: 'Alice@Example.com',
      displayName: '',
    });
    expect(t.tokens.saveTokens).toHaveBeenCalledWith(t.manager, ACCOUNT, expect.any(Object), null);
    expect(t.syncRequests.add).toHaveBeenCalledWith(t.manager, ACCOUNT, 'linked');
  });

  it('stores the settings sealed: the passwords are not in the columns, and the vault opens them again', async () => {
    const t = setup();
    await t.handler.execute(new LinkImapAccountCommand('user-1', settings()));
    const [sealed] = t.stored;
    expect(JSON.stringify(sealed)).not.toContain(PASSWORD);
    expect(Buffer.from(sealed.accessTokenEnc, 'base64').toString('latin1')).not.toContain(PASSWORD);
    const opened = await t.vault.credentialFromSealed(ACCOUNT, sealed);
    expect(JSON.parse(opened)).toEqual(settings());
  });

  it('a mailbox linked before: re-linked (created false, sync reason relinked)', async () => {
    const t = setup({ created: false });
    const result = await t.handler.execute(new LinkImapAccountCommand('user-1', settings()));
    expect(result).toEqual({ accountId: ACCOUNT, created: false });
    expect(t.syncRequests.add).toHaveBeenCalledWith(t.manager, ACCOUNT, 'relinked');
  });

  it.each(MAIL_LINK_FAILURES.map((code) => [code, code.startsWith('SMTP') ? 'smtp' : 'imap'] as const))(
    'a failed check %s: 422 with that code, details.server %s, nothing stored',
    async (code, server) => {
      const t = setup({ probe: () => Promise.reject(new MailLinkCheckError(code, server, 'ECODE')) });
      const err = await t.handler
        .execute(new LinkImapAccountCommand('user-1', settings()))
        .catch((e: unknown) => e);

      expect(err).toBeInstanceOf(HttpException);
      const status = (err as HttpException).getStatus();
      const body = (err as HttpException).getResponse();
      expect(status).toBe(422);
      expect(body).toEqual({
        error: code,
        message: (body as { message: string }).message,
        details: { server },
      });
      expect((body as { message: string }).message).toMatch(/nothing was linked$/);
      expect(JSON.stringify(body)).not.toContain(PASSWORD);
      expect(JSON.stringify(body)).not.toContain('ECODE');
      expect(t.dataSource.transaction).not.toHaveBeenCalled();
      expect(t.calls).toEqual([]);
      expect(logged.join('\n')).toContain(code);
    },
  );

  it('anything else the probe throws is not dressed up as a link failure', async () => {
    const bug = new TypeError('a bug');
    const t = setup({ probe: () => Promise.reject(bug) });
    await expect(t.handler.execute(new LinkImapAccountCommand('user-1', settings()))).rejects.toBe(bug);
    expect(t.calls).toEqual([]);
  });

  it('a transaction that fails leaves the sync unannounced', async () => {
    const t = setup();
    t.tokens.saveTokens.mockResolvedValueOnce(null as unknown as number);
    await expect(t.handler.execute(new LinkImapAccountCommand('user-1', settings()))).rejects.toThrow(
      /vanished/,
    );
    expect(t.syncRequests.add).not.toHaveBeenCalled();
    expect(t.syncRequests.committed).not.toHaveBeenCalled();
  });
});
