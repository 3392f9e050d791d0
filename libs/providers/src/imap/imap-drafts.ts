import type { ImapFlow } from 'imapflow';
import type Mail from 'nodemailer/lib/mailer';
import type { DraftContent, SaveDraftOptions } from '../port';
import {
  appendMessage,
  expungeMessage,
  fetchSource,
  inMailbox,
  locateDraft,
  specialUseFolder,
} from './imap-actions';
import { composeMessage, newMailOptions, parseMessage, referencesOf } from './imap-compose';
import { itemNotFound } from './imap-errors';
import { encodeMessageId, type ImapMessageLocation } from './imap-ids';

/**
 * Drafts the user writes, over IMAP (the port's `saveDraft` and `discardDraft`; docs/mail-actions.md#drafts).
 *
 * IMAP cannot change a message: every save APPENDs the whole draft to the `\Drafts` folder with `\Draft \Seen`
 * (a new UID, so a new id), then expunges every other message of Drafts with the same Message-ID. The Message-ID
 * is the draft's identity across its versions: the first save picks it, later saves keep the replaced version's,
 * so a version a crash left behind (APPENDed, the old one not yet expunged) goes with the next save. A reply or
 * forward draft carries In-Reply-To and References from the message it answers (forward: References only, as
 * a forward sent at once does); later versions keep the replaced version's.
 */

const SEEN = '\\Seen';
const DRAFT = '\\Draft';

/** What a new version keeps of the draft it replaces, or takes from the message it answers. */
interface Threading {
  messageId?: string;
  inReplyTo?: string;
  references?: string[];
}

/** The replaced version, where it is and its threading; null when it is gone (the save creates the draft anew). */
async function previousVersion(
  client: ImapFlow,
  replaceId: string,
): Promise<{ at: ImapMessageLocation; threading: Threading } | null> {
  let at: ImapMessageLocation;
  try {
    at = await locateDraft(client, replaceId);
  } catch (err) {
    if ((err as { status?: number }).status === 404) return null;
    throw err;
  }
  const parsed = await parseMessage(await fetchSource(client, at).catch(() => Buffer.alloc(0)));
  const references = referencesOf({ references: parsed.references, messageId: undefined });
  return {
    at,
    threading: {
      ...(parsed.messageId ? { messageId: parsed.messageId } : {}),
      ...(parsed.inReplyTo ? { inReplyTo: parsed.inReplyTo } : {}),
      ...(references.length > 0 ? { references } : {}),
    },
  };
}

/** The threading headers of a draft answering `source` (the original's raw message). */
export async function originThreading(
  source: Buffer,
  kind: 'reply' | 'replyAll' | 'forward',
): Promise<Threading> {
  const original = await parseMessage(source);
  const references = referencesOf(original);
  return {
    ...(kind !== 'forward' && original.messageId ? { inReplyTo: original.messageId } : {}),
    ...(references.length > 0 ? { references } : {}),
  };
}

/** The draft's mail options: what the user wrote, from the account, with the threading kept. */
export function draftOptions(from: string, draft: DraftContent, threading: Threading): Mail.Options {
  return {
    ...newMailOptions(from, { ...draft, attachments: [] }),
    ...(threading.messageId ? { messageId: threading.messageId } : {}),
    ...(threading.inReplyTo ? { inReplyTo: threading.inReplyTo } : {}),
    ...(threading.references ? { references: threading.references } : {}),
  };
}

/**
 * Saves a draft version (see the file comment) and answers its id. `original` reads the source of the message a
 * new reply/forward draft answers.
 */
export async function saveDraftVersion(
  session: <T>(work: (client: ImapFlow) => Promise<T>) => Promise<T>,
  from: string,
  draft: DraftContent,
  opts: SaveDraftOptions,
  original: (messageId: string) => Promise<Buffer>,
): Promise<string> {
  const previous =
    opts.replaceId !== undefined ? await session((c) => previousVersion(c, opts.replaceId!)) : null;
  let threading: Threading = previous?.threading ?? {};
  if (previous === null && opts.origin !== undefined) {
    threading = await originThreading(await original(opts.origin.messageId), opts.origin.kind);
  }
  const composed = await composeMessage(draftOptions(from, draft, threading), true);
  return session(async (c) => {
    const drafts = await specialUseFolder(c, '\\Drafts');
    if (drafts === null) throw itemNotFound('the mailbox has no Drafts folder');
    const now = await appendMessage(c, drafts, composed.raw, [DRAFT, SEEN]);
    await expungeOtherVersions(c, drafts, composed.messageId, now.uid);
    if (previous !== null && previous.at.path !== drafts) {
      // a draft kept outside Drafts: the new version replaces it all the same
      await expungeMessage(c, previous.at).catch(() => undefined);
    }
    return encodeMessageId(now);
  });
}

/** Expunges the messages of `path` with that Message-ID, except `keepUid` (the version just saved). */
async function expungeOtherVersions(
  client: ImapFlow,
  path: string,
  messageId: string,
  keepUid: number,
): Promise<void> {
  await inMailbox(client, path, async () => {
    const uids = ((await client.search({ header: { 'message-id': messageId } }, { uid: true })) || []).filter(
      (u) => u !== keepUid,
    );
    if (uids.length > 0) await client.messageDelete(uids.join(','), { uid: true });
  });
}

/** Removes a draft for good (expunged, not moved to Trash); one already gone counts as removed. */
export async function discardDraftMessage(client: ImapFlow, draftId: string): Promise<void> {
  let at: ImapMessageLocation;
  try {
    at = await locateDraft(client, draftId);
  } catch (err) {
    if ((err as { status?: number }).status === 404) return;
    throw err;
  }
  await expungeMessage(client, at);
}
