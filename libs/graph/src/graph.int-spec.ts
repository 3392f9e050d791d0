import { randomBytes, randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import type { DataSource } from 'typeorm';
import { CacheKeys, createRedisCluster } from '@email-core/cache';
import type { MicrosoftConfig } from '@email-core/config';
import { TokenCipher } from '@email-core/crypto';
import { createDataSource, MailAccountTokensRepository } from '@email-core/database';
import { currentTestRun, startEmulator, type RunningEmulator } from '@email-core/testing';
import { GraphMailClient } from './graph-mail-client';
import { GraphClientFactory } from './graph.module';
import { OutlookAuthClient } from './outlook-auth-client';
import { TokenVault, type ReauthRequiredEvent, type TokenRefresher } from './token-vault';
import {
  GraphRequestError,
  OutlookAuthError,
  ReauthRequiredError,
  SyncStateNotFoundError,
  type GraphMessage,
  type LinkedIdentity,
  type TokenSet,
} from './types';

/**
 * libs/graph against the real emulator process (Microsoft's stand-in, driven through @azure/msal-node and
 * @microsoft/microsoft-graph-client), the run's real Postgres database and the real Redis Cluster.
 */

interface MailboxSummary {
  userId: string;
  folders: Array<{ id: string; path: string; wellKnownName: string | null; totalItemCount: number }>;
}

interface ExportedMessage {
  id: string;
  immutableId: string;
  parentFolderId: string;
  subject: string;
  isRead: boolean;
  changeKey: string;
}

interface EmulatorStats {
  mailboxes: Record<string, { requests: number; maxConcurrency: number; statuses: Record<string, number> }>;
}

const PASSWORD = 'correct horse battery staple';

describe('libs/graph with the emulator, Postgres and the Redis Cluster', () => {
  const run = currentTestRun();
  let emu: RunningEmulator;
  let config: MicrosoftConfig;
  let auth: OutlookAuthClient;

  const alice = 'alice@contoso.example'; // 300 seeded messages: auth, folders, delta
  const bob = 'bob@fabrikam.example'; // concurrency and throttling
  const carol = 'carol@northwind.example'; // the vault: refresh, rotation, the lock
  const dave = 'dave@northwind.example'; // the vault: revocation
  const erin = 'erin@contoso.example'; // the auth client: revocation

  const stats = () => emu.admin<EmulatorStats>('GET', '/_emulator/stats');

  /** The browser's part: load the sign-in page, post the form, read the code from the redirect. */
  async function signIn(
    address: string,
  ): Promise<{ tokens: TokenSet; identity: LinkedIdentity; code: string }> {
    const state = randomUUID();
    const { url, codeVerifier } = await auth.authorizationUrl({
      state,
      redirectUri: emu.redirectUri,
      loginHint: address,
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="password"');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login: address, password: PASSWORD }),
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(emu.redirectUri);
    expect(location.searchParams.get('state')).toBe(state);
    const code = location.searchParams.get('code') ?? '';
    const redeemed = await auth.redeemCode({ code, codeVerifier, redirectUri: emu.redirectUri });
    return { ...redeemed, code };
  }

  const staticClient = (address: string, accessToken: string) =>
    new GraphMailClient({
      graphBaseUrl: config.graphBaseUrl,
      mailboxKey: `mailbox:${address}`,
      getAccessToken: () => Promise.resolve(accessToken),
    });

  beforeAll(async () => {
    emu = await startEmulator();
    config = {
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      authority: `${emu.origin}/common`,
      graphBaseUrl: emu.origin,
      scopes: ['offline_access', 'User.Read', 'Mail.ReadWrite'],
    };
    auth = new OutlookAuthClient(config);
    await emu.admin('POST', '/_emulator/mailboxes', {
      address: alice,
      displayName: 'Alice Adams',
      password: PASSWORD,
      seed: { messages: 300, seed: 42 },
    });
    await emu.admin('POST', '/_emulator/mailboxes', {
      address: bob,
      displayName: 'Bob Berg',
      password: PASSWORD,
      seed: { messages: 60, seed: 7 },
    });
    for (const address of [carol, dave, erin]) {
      await emu.admin('POST', '/_emulator/mailboxes', { address, password: PASSWORD, seed: { messages: 5 } });
    }
  }, 60000);

  afterAll(async () => {
    await emu?.stop();
  });

  describe('OutlookAuthClient', () => {
    let first: { tokens: TokenSet; identity: LinkedIdentity; code: string };

    beforeAll(async () => {
      first = await signIn(alice);
    }, 30000);

    it('signs in through the form, redeems the code with PKCE and identifies the mailbox through /me', async () => {
      const mailbox = await emu.admin<MailboxSummary>('GET', `/_emulator/mailboxes/${alice}`);
      expect(first.identity).toEqual({
        externalUserId: mailbox.userId,
        email: alice,
        displayName: 'Alice Adams',
      });
      expect(first.tokens.refreshToken.length).toBeGreaterThan(20);
      const lifetime = first.tokens.accessTokenExpiresAt.getTime() - Date.now();
      expect(lifetime).toBeGreaterThan(3500_000);
      expect(lifetime).toBeLessThanOrEqual(3600_000);
      expect((await staticClient(alice, first.tokens.accessToken).me()).id).toBe(mailbox.userId);
    });

    it('a redeemed code cannot be redeemed again (OutlookAuthError invalid_grant, no token in the message)', async () => {
      const err = await auth
        .redeemCode({ code: first.code, codeVerifier: 'x'.repeat(43), redirectUri: emu.redirectUri })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutlookAuthError);
      expect(err).toMatchObject({ code: 'invalid_grant' });
      expect((err as Error).message).not.toContain(first.code);
    });

    it('refresh returns a new access token and a rotated refresh token, and the rotated one refreshes again', async () => {
      const second = await auth.refresh(first.tokens.refreshToken);
      expect(second.refreshToken).not.toBe(first.tokens.refreshToken);
      expect(second.accessToken).not.toBe(first.tokens.accessToken);
      expect(second.accessTokenExpiresAt.getTime()).toBeGreaterThan(Date.now() + 3500_000);
      const third = await auth.refresh(second.refreshToken);
      expect(third.refreshToken).not.toBe(second.refreshToken);
      expect((await staticClient(alice, third.accessToken).me()).userPrincipalName).toBe(alice);
    });

    it('a revoked refresh token raises ReauthRequiredError (AADSTS50173) without the token in the message', async () => {
      const { tokens } = await signIn(erin);
      await emu.admin('POST', '/_emulator/faults', { revokeRefreshTokens: erin });
      const err = await auth.refresh(tokens.refreshToken).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReauthRequiredError);
      expect(err).toMatchObject({ aadCode: '50173' });
      expect((err as Error).message).toMatch(/revoked/);
      expect((err as Error).message).not.toContain(tokens.refreshToken);
    });
  });

  describe('GraphMailClient', () => {
    let graph: GraphMailClient;
    let bobGraph: GraphMailClient;

    beforeAll(async () => {
      graph = staticClient(alice, (await signIn(alice)).tokens.accessToken);
      bobGraph = staticClient(bob, (await signIn(bob)).tokens.accessToken);
    }, 30000);

    it('lists the whole folder tree, the nested folders under their parents, with the well-known names', async () => {
      const truth = await emu.admin<MailboxSummary>('GET', `/_emulator/mailboxes/${alice}`);
      const tree = await graph.listFolderTree();
      const visible = truth.folders.filter((f) => !['Scheduled', 'Sync Issues'].includes(f.path));
      expect(tree.map((f) => f.id).sort()).toEqual(visible.map((f) => f.id).sort());
      const byPath = new Map(truth.folders.map((f) => [f.path, f]));
      const nested = tree.find((f) => f.id === byPath.get('Inbox/Projects/2026')?.id);
      expect(nested?.parentFolderId).toBe(byPath.get('Inbox/Projects')?.id);
      expect(tree.find((f) => f.id === byPath.get('Inbox/Projects')?.id)?.parentFolderId).toBe(
        byPath.get('Inbox')?.id,
      );
      expect(tree.find((f) => f.id === byPath.get('Inbox')?.id)?.parentFolderId).toBeNull();
      // parents come before their children
      const position = new Map(tree.map((f, i) => [f.id, i]));
      for (const f of tree)
        if (f.parentFolderId) expect(position.get(f.parentFolderId)).toBeLessThan(position.get(f.id) ?? -1);
      const labelled = new Set(['inbox', 'sentitems', 'drafts', 'deleteditems', 'junkemail', 'archive']);
      for (const f of visible) {
        const expected = f.wellKnownName && labelled.has(f.wellKnownName) ? f.wellKnownName : null;
        expect([f.path, tree.find((t) => t.id === f.id)?.wellKnownName]).toEqual([f.path, expected]);
      }
      for (const f of tree)
        expect(f.totalItemCount).toBe(truth.folders.find((t) => t.id === f.id)?.totalItemCount);
    });

    it('reads the Inbox alone by its well-known name, as the tree lists it', async () => {
      const tree = await graph.listFolderTree();
      expect(await graph.inboxFolder()).toEqual(tree.find((f) => f.wellKnownName === 'inbox'));
    });

    it('a full delta over every folder equals the export: immutable ids, folders, subjects, read states', async () => {
      const tree = await graph.listFolderTree();
      const seen = new Map<string, GraphMessage>();
      let pages = 0;
      const deltaLinks = new Map<string, string>();
      for (const folder of tree) {
        let page = await graph.deltaPage({ folderId: folder.id }, 40);
        for (;;) {
          pages++;
          for (const m of page.messages) seen.set(m.id, m);
          expect(page.removedIds).toEqual([]);
          if (page.deltaLink) break;
          page = await graph.deltaPage({ link: page.nextLink ?? '' }, 40);
        }
        deltaLinks.set(folder.id, page.deltaLink ?? '');
      }
      const exp = await emu.admin<{ messages: ExportedMessage[] }>(
        'GET',
        `/_emulator/mailboxes/${alice}/export?bodies=false`,
      );
      expect(exp.messages).toHaveLength(300);
      expect(seen.size).toBe(300);
      expect(pages).toBeGreaterThan(tree.length);
      const mirrored = [...seen.values()].map(
        (m) => `${m.id}|${m.folderId}|${m.subject}|${m.isRead}|${m.changeKey}`,
      );
      const expected = exp.messages.map(
        (m) => `${m.immutableId}|${m.parentFolderId}|${m.subject}|${m.isRead}|${m.changeKey}`,
      );
      expect(mirrored.sort()).toEqual(expected.sort());
      const sample = [...seen.values()][0];
      expect(sample.body.content.length).toBeGreaterThan(0);
      expect(['html', 'text']).toContain(sample.body.contentType);

      // getMessage answers the same message by its immutable id
      expect(await graph.getMessage(sample.id)).toEqual(sample);
      await expect(graph.getMessage('AAMkAGdoesnotexist=')).rejects.toMatchObject({
        status: 404,
        code: 'ErrorItemNotFound',
      });
      await expect(graph.getMessage('AAMkAGdoesnotexist=')).rejects.toBeInstanceOf(GraphRequestError);

      // an expired delta token: the folder has to start again
      const inbox = tree.find((f) => f.wellKnownName === 'inbox');
      await emu.admin('POST', '/_emulator/faults', { expireDeltaTokens: alice });
      await expect(graph.deltaPage({ link: deltaLinks.get(inbox?.id ?? '') ?? '' })).rejects.toBeInstanceOf(
        SyncStateNotFoundError,
      );
    }, 60000);

    it('rides out injected 429s, waiting the Retry-After each time', async () => {
      const before = (await stats()).mailboxes[bob]?.statuses['429'] ?? 0;
      await emu.admin('POST', '/_emulator/faults', {
        failNext: { count: 2, status: 429, retryAfterSeconds: 1 },
      });
      const started = Date.now();
      expect((await bobGraph.me()).userPrincipalName).toBe(bob);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1950);
      const after = (await stats()).mailboxes[bob]?.statuses['429'] ?? 0;
      expect(after - before).toBe(2);
    });

    it('keeps at most 4 requests of a mailbox in flight while 20 calls run in parallel', async () => {
      await emu.admin('POST', '/_emulator/faults', { latencyMs: 40 });
      try {
        const folders = await bobGraph.listFolderTree();
        const inbox = folders.find((f) => f.wellKnownName === 'inbox')?.id ?? '';
        const before = (await stats()).mailboxes[bob];
        const calls = Array.from({ length: 20 }, (_, i) => {
          if (i % 3 === 0) return bobGraph.me();
          if (i % 3 === 1) return bobGraph.deltaPage({ folderId: inbox }, 10);
          return bobGraph.listFolderTree();
        });
        await Promise.all(calls);
        const after = (await stats()).mailboxes[bob];
        expect(after.maxConcurrency).toBe(4);
        // nothing was throttled for being over Outlook's concurrency limit
        expect(after.statuses['429'] ?? 0).toBe(before.statuses['429'] ?? 0);
      } finally {
        await emu.admin('POST', '/_emulator/faults', { latencyMs: 0 });
      }
    }, 60000);
  });

  describe('TokenVault (Postgres + Redis Cluster)', () => {
    let dataSource: DataSource;
    let cluster: Cluster;
    let repo: MailAccountTokensRepository;
    const cipher = new TokenCipher([{ id: 'k1', key: randomBytes(32) }]);

    /** The real auth client, counted, slowed down a little so concurrent callers really overlap. */
    const counting = () => {
      const refreshed: Array<{ given: string; got: string }> = [];
      const calls = { count: 0 };
      const refresher: TokenRefresher = {
        refresh: async (refreshToken) => {
          calls.count++;
          await new Promise((r) => setTimeout(r, 300));
          const tokens = await auth.refresh(refreshToken);
          refreshed.push({ given: refreshToken, got: tokens.refreshToken });
          return tokens;
        },
      };
      return { refresher, refreshed, calls };
    };

    interface TokenColumns {
      status: string;
      status_reason: string | null;
      token_key_id: string;
      access_token_enc: string;
      refresh_token_enc: string;
      token_version: number;
      access_token_expires_at: Date;
    }

    const row = async (accountId: string) =>
      (
        await dataSource.query<TokenColumns[]>(
          `SELECT status, status_reason, token_key_id, access_token_enc, refresh_token_enc, token_version,
                  access_token_expires_at
             FROM mail_accounts WHERE id = $1`,
          [accountId],
        )
      )[0];

    const expireAccessToken = (accountId: string) =>
      dataSource.query(
        `UPDATE mail_accounts SET access_token_expires_at = now() - interval '1 minute' WHERE id = $1`,
        [accountId],
      );

    const openRefreshToken = async (accountId: string) => {
      const r = await row(accountId);
      return cipher.open(
        { keyId: r.token_key_id, data: r.refresh_token_enc },
        `mail_accounts:${accountId}:refresh_token`,
      );
    };

    /** A user and a linked account, with its tokens stored the way the producer's callback stores them. */
    async function linkedAccount(
      address: string,
    ): Promise<{ accountId: string; userId: string; tokens: TokenSet }> {
      const { tokens, identity } = await signIn(address);
      const userId = randomUUID();
      const accountId = randomUUID();
      const vault = new TokenVault(repo, cluster, auth, cipher);
      await dataSource.transaction(async (m) => {
        await m.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
          userId,
          `${userId}@users.test`,
        ]);
        await m.query(
          `INSERT INTO mail_accounts (id, user_id, external_user_id, email, display_name) VALUES ($1, $2, $3, $4, $5)`,
          [accountId, userId, identity.externalUserId, identity.email, identity.displayName],
        );
        await vault.saveInitial(m, accountId, tokens);
      });
      return { accountId, userId, tokens };
    }

    beforeAll(async () => {
      dataSource = createDataSource({ url: run.databaseUrl, poolSize: 6 });
      await dataSource.initialize();
      cluster = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix: run.redisKeyPrefix });
      repo = new MailAccountTokensRepository(dataSource);
    });

    afterAll(async () => {
      await cluster?.quit();
      await dataSource?.destroy();
    });

    it('stores the tokens encrypted under the key id and serves the stored access token while it is valid', async () => {
      const { accountId, tokens } = await linkedAccount(carol);
      const stored = await row(accountId);
      expect(stored.token_key_id).toBe('k1');
      expect(stored.token_version).toBe(1);
      expect(stored.access_token_enc).not.toContain(tokens.accessToken.slice(0, 40));
      expect(Buffer.from(stored.refresh_token_enc, 'base64').toString('latin1')).not.toContain(
        tokens.refreshToken,
      );
      expect(await openRefreshToken(accountId)).toBe(tokens.refreshToken);
      // bound to its row and column: the access ciphertext does not open as the refresh token
      expect(() =>
        cipher.open(
          { keyId: 'k1', data: stored.access_token_enc },
          `mail_accounts:${accountId}:refresh_token`,
        ),
      ).toThrow();

      const { refresher, refreshed } = counting();
      const vault = new TokenVault(repo, cluster, refresher, cipher);
      expect(await vault.getAccessToken(accountId)).toBe(tokens.accessToken);
      expect(refreshed).toHaveLength(0);
    }, 30000);

    it('refreshes an expiring token once, persists the rotated refresh token and bumps token_version', async () => {
      const { accountId, tokens } = await linkedAccount(carol);
      const { refresher, refreshed } = counting();
      const vault = new TokenVault(repo, cluster, refresher, cipher);

      await expireAccessToken(accountId);
      const fresh = await vault.getAccessToken(accountId);
      expect(fresh).not.toBe(tokens.accessToken);
      expect(refreshed).toHaveLength(1);
      expect(refreshed[0].given).toBe(tokens.refreshToken);
      const after = await row(accountId);
      expect(after.token_version).toBe(2);
      expect(after.access_token_expires_at.getTime()).toBeGreaterThan(Date.now() + 3500_000);
      const rotated = await openRefreshToken(accountId);
      expect(rotated).not.toBe(tokens.refreshToken);
      expect(rotated).toBe(refreshed[0].got);
      expect((await staticClient(carol, fresh).me()).userPrincipalName).toBe(carol);

      // the next refresh (another process: a new vault) uses the rotated token
      await expireAccessToken(accountId);
      const other = new TokenVault(repo, cluster, refresher, cipher);
      await other.getAccessToken(accountId);
      expect(refreshed).toHaveLength(2);
      expect(refreshed[1].given).toBe(rotated);
      expect((await row(accountId)).token_version).toBe(3);
      // the lock is gone after use
      expect(await cluster.exists(CacheKeys.accountLock(accountId, 'token'))).toBe(0);
    }, 30000);

    it('two processes asking at once for an expired token cause exactly one refresh', async () => {
      const { accountId } = await linkedAccount(carol);
      await expireAccessToken(accountId);
      const { refresher, refreshed, calls } = counting();
      const processA = new TokenVault(repo, cluster, refresher, cipher);
      const processB = new TokenVault(repo, cluster, refresher, cipher);
      const results = await Promise.all([
        processA.getAccessToken(accountId),
        processB.getAccessToken(accountId),
        processA.getAccessToken(accountId),
        processB.getAccessToken(accountId),
      ]);
      expect(calls.count).toBe(1);
      expect(refreshed).toHaveLength(1);
      expect(new Set(results).size).toBe(1);
      expect((await row(accountId)).token_version).toBe(2);
      expect(await openRefreshToken(accountId)).toBe(refreshed[0].got);
    }, 30000);

    it('a revoked refresh token moves the account to reauth_required, keeps its mail and tells the listener once', async () => {
      const { accountId, userId } = await linkedAccount(dave);
      await dataSource.query(
        `INSERT INTO mail_folders (account_id, remote_id, display_name) VALUES ($1, 'F1', 'Inbox')`,
        [accountId],
      );
      await dataSource.query(
        `INSERT INTO messages (account_id, remote_id, folder_remote_id, change_key, received_at)
         VALUES ($1, 'M1', 'F1', 'ck', now())`,
        [accountId],
      );
      await emu.admin('POST', '/_emulator/faults', { revokeRefreshTokens: dave });
      await expireAccessToken(accountId);
      const { refresher, calls } = counting();
      const vault = new TokenVault(repo, cluster, refresher, cipher);
      const told: ReauthRequiredEvent[] = [];
      vault.onReauthRequired(async (manager, event) => {
        // inside the transaction that changed the status
        const [{ status }] = await manager.query<Array<{ status: string }>>(
          `SELECT status FROM mail_accounts WHERE id = $1`,
          [accountId],
        );
        expect(status).toBe('reauth_required');
        told.push(event);
      });

      const err = await vault.getAccessToken(accountId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReauthRequiredError);
      expect(err).toMatchObject({ aadCode: '50173' });
      expect(calls.count).toBe(1);
      const after = await row(accountId);
      expect(after.status).toBe('reauth_required');
      expect(after.status_reason).toMatch(/revoked.*AADSTS50173/);
      expect(told).toEqual([
        { accountId, userId, reason: 'refresh token revoked (invalid_grant, AADSTS50173)', aadCode: '50173' },
      ]);
      const kept = await dataSource.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM messages WHERE account_id = $1`,
        [accountId],
      );
      expect(kept[0].n).toBe(1);

      // later calls fail at once, without asking Microsoft again
      await expect(vault.getAccessToken(accountId)).rejects.toBeInstanceOf(ReauthRequiredError);
      expect(calls.count).toBe(1);
      expect(told).toHaveLength(1);

      // signing in again (a re-link) stores new tokens and clears reauth_required
      const again = await signIn(dave);
      await dataSource.transaction((m) => vault.saveInitial(m, accountId, again.tokens));
      expect((await row(accountId)).status).toBe('syncing');
      expect(await vault.getAccessToken(accountId)).toBe(again.tokens.accessToken);
    }, 30000);

    it('GraphClientFactory gives the consumer a client whose tokens come from the vault', async () => {
      const { accountId } = await linkedAccount(carol);
      await expireAccessToken(accountId);
      const { refresher, refreshed } = counting();
      const factory = new GraphClientFactory(
        new TokenVault(repo, cluster, refresher, cipher),
        config.graphBaseUrl,
      );
      const graph = factory.forAccount(accountId);
      const [folders, me] = await Promise.all([graph.listFolderTree(), graph.me()]);
      expect(me.userPrincipalName).toBe(carol);
      expect(folders.some((f) => f.wellKnownName === 'inbox')).toBe(true);
      expect(refreshed).toHaveLength(1);
    }, 30000);
  });
});
