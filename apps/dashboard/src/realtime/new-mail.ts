import { api, unwrap, type Schemas } from '@/api/client';
import type { MailChangedEvent } from './events';

type MessageSummary = Schemas['MessageSummaryDto'];

/** A mail counts as new when it is unread and arrived within this window (older unread mail that changes is not news). */
const FRESH_MS = 10 * 60_000;
/** How many of the inbox's newest messages are looked at for the event's ids. */
const NEWEST_PAGE = 25;

/**
 * Tells new mail apart from other changes. A `mail.changed` event says only "upserted into folder F" (a new mail, a
 * flag, a read state and a move all look alike), so an upsert counts as new mail when its folder is the inbox and the
 * message is among the inbox's newest, unread, recently received, and not announced before in this tab. One request
 * for the inbox's newest page answers all of that (plus one for the folder list, once per account).
 */
export class NewMailDetector {
  private readonly inboxes = new Map<string, string | null>();
  private readonly announced = new Set<string>();

  async detect(e: MailChangedEvent): Promise<MessageSummary[]> {
    const upserted = new Map<string, string>();
    for (const c of e.changes) {
      if (c.kind === 'upserted' && !this.announced.has(c.messageId)) upserted.set(c.messageId, c.folderId);
    }
    if (upserted.size === 0) return [];
    let inbox = this.inboxes.get(e.accountId);
    if (!inbox) {
      inbox = await this.findInbox(e.accountId);
      this.inboxes.set(e.accountId, inbox);
    }
    const inInbox = [...upserted].filter(([, folderId]) => folderId === inbox).map(([id]) => id);
    if (!inbox || inInbox.length === 0) return [];
    // whatever the outcome, an id is looked at once: a later flag or read change of it is not news
    for (const id of inInbox) this.announced.add(id);
    const page = await unwrap(
      api.GET('/api/v1/accounts/{accountId}/messages', {
        params: { path: { accountId: e.accountId }, query: { folderId: inbox, limit: NEWEST_PAGE } },
      }),
    );
    const ids = new Set(inInbox);
    const since = Date.now() - FRESH_MS;
    return page.items.filter((m) => ids.has(m.id) && !m.isRead && Date.parse(m.receivedAt) >= since);
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
