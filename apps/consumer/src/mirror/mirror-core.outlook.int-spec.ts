import { OutlookProvider } from '@email-core/providers';
import { exportedState, startEmulator, type RunningEmulator } from '@email-core/testing';
import { describeMirrorCore, type RemoteMailbox } from './testing/mirror-core.contract';
import { withoutWatch } from './testing/test-providers';

/**
 * The mirror core's scenarios on Outlook's adapter, against the real emulator (Microsoft Graph over HTTPS): the
 * same scenarios as mirror-core.memory.int-spec.ts. The mailboxes are made and changed "elsewhere" through the
 * emulator's admin API; the adapter gets each account's access token from the emulator too (these accounts have
 * no sealed tokens).
 */

interface CreatedMailbox {
  userId: string;
  folders: Array<{ id: string; path: string; wellKnownName: string | null }>;
}
interface Written {
  immutableId: string;
}

let emulator: RunningEmulator;
const addresses = new Map<string, string>();
const tokens = new Map<string, string>();

const tokenOf = async (address: string, forceRefresh = false): Promise<string> => {
  let token = tokens.get(address);
  if (!token || forceRefresh) {
    token = (await emulator.admin<{ access_token: string }>('POST', '/_emulator/tokens', { address }))
      .access_token;
    tokens.set(address, token);
  }
  return token;
};

function remote(address: string, created: CreatedMailbox): RemoteMailbox {
  const folder = (match: (f: CreatedMailbox['folders'][number]) => boolean, what: string) => {
    const f = created.folders.find(match);
    if (!f) throw new Error(`the emulator's mailbox has no ${what} folder`);
    return f.id;
  };
  const admin = <T>(method: string, path: string, body?: unknown) =>
    emulator.admin<T>(method, `/_emulator/mailboxes/${address}${path}`, body);
  return {
    folders: {
      inbox: folder((f) => f.wellKnownName === 'inbox', 'inbox'),
      archive: folder((f) => f.wellKnownName === 'archive', 'archive'),
      projects: folder((f) => f.path === 'Inbox/Projects', 'Inbox/Projects'),
      nested: folder((f) => f.path === 'Inbox/Projects/2026', 'Inbox/Projects/2026'),
    },
    addMessage: async (folderId, input = {}) =>
      (await admin<Written>('POST', '/messages', { folder: folderId, ...input })).immutableId,
    update: async (id, patch) => {
      const { flagStatus, ...rest } = patch;
      await admin('PATCH', `/messages/${id}`, { ...rest, ...(flagStatus ? { flag: { flagStatus } } : {}) });
    },
    move: async (id, folderId) => {
      await admin('POST', `/messages/${id}/move`, { destinationId: folderId });
    },
    remove: async (id) => {
      await admin('DELETE', `/messages/${id}`);
    },
    // folders are made through Graph itself: the admin API has no folder route
    addFolder: async (displayName, parentId) => {
      const res = await fetch(`${emulator.origin}/v1.0/me/mailFolders/${parentId}/childFolders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await tokenOf(address)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ displayName }),
      });
      if (res.status !== 201)
        throw new Error(`creating folder ${displayName}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    },
    expireCursors: async () => {
      await emulator.admin('POST', '/_emulator/faults', { expireDeltaTokens: address });
    },
    truth: () => exportedState(emulator.admin, address),
  };
}

describeMirrorCore('Outlook (emulator)', {
  provider: 'outlook',
  start: async () => {
    emulator = await startEmulator();
    // no Graph subscriptions: the emulator could not reach a webhook here, and the scenarios poke the rounds
    // themselves (a subscription's lifecycle would start catch-up rounds in the middle of a scenario)
    const outlook = OutlookProvider.create({
      graphBaseUrl: emulator.origin,
      accessToken: (accountId, opts) => {
        const address = addresses.get(accountId);
        if (!address) return Promise.reject(new Error(`no emulator mailbox for account ${accountId}`));
        return tokenOf(address, opts?.forceRefresh);
      },
    });
    return withoutWatch(outlook);
  },
  stop: async () => {
    await emulator?.stop();
  },
  createMailbox: async (accountId, address) => {
    // no messages, and two custom folders: Projects in the Inbox, 2026 in Projects
    const created = await emulator.admin<CreatedMailbox>('POST', '/_emulator/mailboxes', {
      address,
      seed: { messages: 0, folders: 2 },
    });
    addresses.set(accountId, address);
    return { externalUserId: created.userId, mailbox: remote(address, created) };
  },
});
