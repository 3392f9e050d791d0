import { api, unwrap, type Schemas } from '@/api/client';
import type { MailChangedEvent } from './events';
import { newMailIds } from './new-mail-changes';

type MessageSummary = Schemas['MessageSummaryDto'];

/** How many of the inbox's newest messages are read for the new mail's sender and subject. */
const NEWEST_PAGE = 25;

/**
 * New mail from `mail.changed`: the changes of kind `created` in the account's inbox (see {@link newMailIds}), shown
 * when still unread (a mail the user already read elsewhere is not news). One request for the inbox's newest page
 * gives their sender and subject (plus one for the folder list, once per account); no request at all for an event
 * without a `created` change (a flag, a read state, a move).
 */
export class NewMailDetector {
  private readonly inboxes = new Map<string, string | null>();
  private readonly announced = new Set<string>();

  async detect(e: MailChangedEvent): Promise<MessageSummary[]> {
    if (!e.changes.some((c) => c.kind === 'created')) return [];
    let inbox = this.inboxes.get(e.accountId);
    if (!inbox) {
      inbox = await this.findInbox(e.accountId);
      this.inboxes.set(e.accountId, inbox);
    }
    if (!inbox) return [];
    const ids = newMailIds(e.changes, inbox, this.announced);
    if (ids.length === 0) return [];
    // an id is announced once, whatever the outcome (a redelivered event is not news twice)
    for (const id of ids) this.announced.add(id);
    const page = await unwrap(
      api.GET('/api/v1/accounts/{accountId}/messages', {
        params: { path: { accountId: e.accountId }, query: { folderId: inbox, limit: NEWEST_PAGE } },
      }),
    );
    const wanted = new Set(ids);
    return page.items.filter((m) => wanted.has(m.id) && !m.isRead);
  }

  private async findInbox(accountId: string): Promise<string | null> {
    const folders = await unwrap(
      api.GET('/api/v1/accounts/{accountId}/folders', { params: { path: { accountId } } }),
    );
    return folders.items.find((f) => f.wellKnownName === 'inbox')?.id ?? null;
  }
}

/** "Ada Lovelace: Quarterly numbers" */
export function describeMail(m: MessageSummary): string {
  const from = m.from ? m.from.name || m.from.address : '';
  const subject = m.subject || '(no subject)';
  return from ? `${from}: ${subject}` : subject;
}
