import { Client } from 'pg';
import {
  apiCall,
  linkOutlook,
  settleMirror,
  signUp,
  startProduct,
  waitFor,
  type RunningProduct,
} from '@email-core/testing';

interface AccountView {
  id: string;
  email: string;
  status: string;
}

interface FolderView {
  id: string;
  wellKnownName: string | null;
}

const BUSY = 'busy-first@contoso.example';
const WAITING = 'waits-second@contoso.example';
const PASSWORD = 'mailbox-password';

/**
 * Issue 20, the fleet's first screens, on the real stack and the emulator: with one sync slot, a mailbox linked
 * while another syncs in full shows its Inbox's newest page before its own turn, having read the Inbox alone (no
 * folder tree yet); a message deleted between that first screen and the turn is swept, and both mirrors end equal
 * to the emulator's export.
 */
describe('a mailbox linked while another syncs shows its first screen before its turn', () => {
  let product: RunningProduct;
  let db: Client;

  beforeAll(async () => {
    product = await startProduct({ appEnv: { SYNC_CONCURRENT_PARTITIONS: '1' } });
    for (const [address, messages] of [
      [BUSY, 5000],
      [WAITING, 300],
    ] as const) {
      await product.emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        displayName: address,
        password: PASSWORD,
        seed: { messages, folders: 3, seed: 2026 },
      });
    }
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await product?.stop();
  });

  it('reads the Inbox alone ahead, shows its newest page, and sweeps what was deleted before its turn', async () => {
    const { token } = await signUp(product.api);
    const get = async <T>(path: string): Promise<T> => {
      const res = await apiCall<T>(product.api, 'GET', path, { token });
      if (res.status !== 200) throw new Error(`GET ${path} -> ${res.status}`);
      return res.body;
    };
    const accounts = async () => (await get<{ items: AccountView[] }>('/api/v1/accounts')).items;
    const accountOf = async (address: string) => {
      const found = (await accounts()).find((a) => a.email === address);
      if (!found) throw new Error(`no account for ${address}`);
      return found;
    };
    const inboxPage = async (accountId: string, inboxId: string) =>
      (
        await get<{ items: Array<{ id: string }> }>(
          `/api/v1/accounts/${accountId}/messages?folderId=${encodeURIComponent(inboxId)}&limit=50`,
        )
      ).items.map((m) => m.id);

    let earlyPage: string[] = [];
    // every Graph request slowed, so the first mailbox holds the only slot for many seconds
    await product.emulator.admin('POST', '/_emulator/faults', { latencyMs: 300 });
    try {
      await linkOutlook(product, token, BUSY, PASSWORD);
      await linkOutlook(product, token, WAITING, PASSWORD);
      const waiting = await accountOf(WAITING);

      // its first screen, seen while the busy mailbox still syncs in full (so before its own turn)
      const early = await waitFor(
        async () => {
          const folders = (await get<{ items: FolderView[] }>(`/api/v1/accounts/${waiting.id}/folders`))
            .items;
          const inbox = folders.find((f) => f.wellKnownName === 'inbox');
          if (!inbox) return undefined;
          const page = await inboxPage(waiting.id, inbox.id);
          return page.length > 0 ? { folders, inbox, page } : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100, what: 'the waiting mailbox to show its Inbox page' },
      );
      expect((await accountOf(BUSY)).status).toBe('syncing');
      expect((await accountOf(WAITING)).status).toBe('syncing');
      // the Inbox alone: the tree is read in the sync's turn
      expect(early.folders.map((f) => f.wellKnownName)).toEqual(['inbox']);
      expect(early.page).toHaveLength(50);
      earlyPage = early.page;

      // the newest message goes before the waiting mailbox's turn
      await product.emulator.admin('DELETE', `/_emulator/mailboxes/${WAITING}/messages/${early.page[0]}`);
    } finally {
      await product.emulator.admin('POST', '/_emulator/faults', { latencyMs: 0 });
    }

    await waitFor(async () => ((await accounts()).every((a) => a.status === 'synced') ? true : undefined), {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: 'both mailboxes synced',
    });
    for (const address of [WAITING, BUSY]) {
      const { id } = await accountOf(address);
      const { mirror, exported } = await settleMirror(db, product.emulator.admin, id, address, 30_000);
      expect(mirror).toEqual(exported);
    }
    // the page shown early, less the deleted message, is the Inbox's newest page now
    const waiting = await accountOf(WAITING);
    const inbox = (await get<{ items: FolderView[] }>(`/api/v1/accounts/${waiting.id}/folders`)).items.find(
      (f) => f.wellKnownName === 'inbox',
    );
    const now = await inboxPage(waiting.id, inbox?.id ?? '');
    expect(now.slice(0, 49)).toEqual(earlyPage.slice(1, 50));
  }, 300_000);
});
