import { MemoryProvider, type MemoryMailbox } from '@email-core/providers';
import { describeMirrorCore, mailboxState, type RemoteMailbox } from './testing/mirror-core.contract';

/**
 * The mirror core's scenarios on the in-memory adapter: the provider is a `MemoryProvider` in this process (no
 * Graph, no emulator), registered in the consumer's provider registry as 'memory'; the same scenarios run against
 * Outlook's adapter on the emulator in mirror-core.outlook.int-spec.ts.
 */

function remote(box: MemoryMailbox): RemoteMailbox {
  const wellKnown = (name: string) => {
    const f = box.findFolder(name);
    if (!f) throw new Error(`no ${name} folder`);
    return f.id;
  };
  const inbox = wellKnown('inbox');
  const projects = box.addFolder({ displayName: 'Projects', parentId: inbox }).id;
  const nested = box.addFolder({ displayName: '2026', parentId: projects }).id;
  const answer = <T>(fn: () => T): Promise<T> => Promise.resolve(fn());
  return {
    folders: { inbox, archive: wellKnown('archive'), projects, nested },
    addMessage: (folderId, input = {}) => answer(() => box.add(folderId, input).id),
    update: (id, patch) => answer(() => void box.update(id, patch)),
    move: (id, folderId) => answer(() => void box.move(id, folderId)),
    remove: (id) => answer(() => box.delete(id)),
    addFolder: (displayName, parentId) => answer(() => box.addFolder({ displayName, parentId }).id),
    expireCursors: () => answer(() => box.expireCursors()),
    truth: () =>
      answer(() =>
        mailboxState(
          box.messages().map((m) => ({
            id: m.id,
            folderId: m.folderId,
            changeKey: m.changeKey,
            subject: m.subject,
            isRead: m.isRead,
            flagStatus: m.flagStatus,
          })),
          box.folders().map((f) => ({ id: f.id, ...box.counts(f.id) })),
        ),
      ),
  };
}

const provider = new MemoryProvider();

describeMirrorCore('in-memory', {
  provider: provider.name,
  watch: {
    channels: (accountId) => provider.openChannels(accountId).length,
    onDelivery: (listener) => provider.onDelivery((d) => listener(d.accountId, d.changes)),
  },
  start: () => Promise.resolve(provider),
  stop: () => Promise.resolve(),
  createMailbox: (accountId, address) =>
    Promise.resolve({
      externalUserId: `memory-${accountId}`,
      mailbox: remote(provider.createMailbox(accountId, address)),
    }),
});
