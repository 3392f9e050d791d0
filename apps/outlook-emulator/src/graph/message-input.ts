import { flagNumber, type MessagePatch } from '../store/mailbox-store';
import type { AttachmentContent, EmailAddress } from '../store/model';
import { GraphError } from './graph-error';

/** Graph's limit for attachments sent inline in a request body; larger files need an upload session */
export const INLINE_ATTACHMENT_LIMIT = 3 * 1024 * 1024;

/** message properties a PATCH may set (lower case) */
const PATCHABLE = new Set([
  'isread',
  'flag',
  'subject',
  'body',
  'importance',
  'categories',
  'inferenceclassification',
  'torecipients',
  'ccrecipients',
  'bccrecipients',
  'replyto',
  'isreadreceiptrequested',
]);

/** Graph: "Updatable only if isDraft = true" (message-update); EWS answers ErrorInvalidPropertyUpdateSentMessage */
export const DRAFT_ONLY = new Set(['subject', 'body', 'replyto']);

/** what creating a message (a draft, or the `message` parameter of reply and forward) may carry besides */
const CREATE_ONLY = new Set(['attachments', 'from', 'sender']);

const RECIPIENT_FIELDS = {
  torecipients: 'toRecipients',
  ccrecipients: 'ccRecipients',
  bccrecipients: 'bccRecipients',
  replyto: 'replyTo',
} as const;

export function recipients(value: unknown): EmailAddress[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: EmailAddress[] = [];
  for (const r of value) {
    const e = (r as { emailAddress?: { name?: unknown; address?: unknown } } | null)?.emailAddress;
    if (!e || typeof e.address !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(e.address)) return undefined;
    out.push({ name: typeof e.name === 'string' ? e.name : e.address, address: e.address });
  }
  return out;
}

export interface MessageWrite {
  patch: MessagePatch;
  /** only when creating */
  attachments?: AttachmentContent[];
}

/**
 * The writable properties of a message in a request body, validated as Graph does: an unknown or read-only
 * property is `400 ErrorInvalidProperty`, a bad value `400 ErrorInvalidRequest`. `create` also accepts
 * `attachments` (inline file attachments) and `from`/`sender` (which must be the mailbox itself; ignored).
 */
export function parseMessageWrite(body: Record<string, unknown>, mode: 'patch' | 'create'): MessageWrite {
  const patch: MessagePatch = {};
  const out: MessageWrite = { patch };
  for (const [key, value] of Object.entries(body)) {
    const k = key.toLowerCase();
    if (k.startsWith('@odata.')) continue;
    if (!PATCHABLE.has(k) && !(mode === 'create' && CREATE_ONLY.has(k))) {
      throw new GraphError(
        400,
        'ErrorInvalidProperty',
        `The property '${key}' does not exist on type 'microsoft.graph.message' or cannot be updated.`,
      );
    }
    const bad = () => new GraphError(400, 'ErrorInvalidRequest', `Invalid value for property '${key}'.`);
    switch (k) {
      case 'isread':
        if (typeof value !== 'boolean') throw bad();
        patch.isRead = value;
        break;
      case 'flag': {
        const status = (value as { flagStatus?: unknown } | null)?.flagStatus;
        if (status !== 'notFlagged' && status !== 'flagged' && status !== 'complete') throw bad();
        patch.flag = flagNumber(status);
        break;
      }
      case 'subject':
        if (typeof value !== 'string') throw bad();
        patch.subject = value;
        break;
      case 'body': {
        const b = value as { contentType?: unknown; content?: unknown } | null;
        if (!b || typeof b.content !== 'string') throw bad();
        patch.body = {
          contentType: String(b.contentType).toLowerCase() === 'text' ? 'text' : 'html',
          content: b.content,
        };
        break;
      }
      case 'importance': {
        const v = typeof value === 'string' ? value.toLowerCase() : value;
        if (v !== 'low' && v !== 'normal' && v !== 'high') throw bad();
        patch.importance = v;
        break;
      }
      case 'categories':
        if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) throw bad();
        patch.categories = value;
        break;
      case 'inferenceclassification':
        if (value !== 'focused' && value !== 'other') throw bad();
        patch.inferenceClassification = value;
        break;
      case 'isreadreceiptrequested':
        if (typeof value !== 'boolean') throw bad();
        patch.isReadReceiptRequested = value;
        break;
      case 'attachments':
        out.attachments = fileAttachments(value);
        break;
      case 'from':
      case 'sender':
        break;
      default: {
        const list = recipients(value);
        if (!list) throw bad();
        patch[RECIPIENT_FIELDS[k as keyof typeof RECIPIENT_FIELDS]] = list;
      }
    }
  }
  return out;
}

export function fileAttachments(raw: unknown): AttachmentContent[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw))
    throw new GraphError(400, 'ErrorInvalidRequest', "'attachments' must be an array.");
  return raw.map(fileAttachment);
}

/** a `#microsoft.graph.fileAttachment` with base64 `contentBytes` of at most 3 MB */
export function fileAttachment(raw: unknown): AttachmentContent {
  const att = raw as Record<string, unknown> | null;
  if (!att || typeof att !== 'object' || att['@odata.type'] !== '#microsoft.graph.fileAttachment') {
    throw new GraphError(
      400,
      'ErrorInvalidRequest',
      'Only #microsoft.graph.fileAttachment attachments are supported.',
    );
  }
  if (typeof att.name !== 'string' || !att.name || typeof att.contentBytes !== 'string') {
    throw new GraphError(400, 'ErrorInvalidRequest', 'A file attachment needs a name and contentBytes.');
  }
  const bytes = Buffer.from(att.contentBytes, 'base64');
  if (bytes.length > INLINE_ATTACHMENT_LIMIT) {
    throw new GraphError(
      413,
      'ErrorRequestEntityTooLarge',
      'The attachment is larger than 3 MB; use an upload session for large attachments.',
    );
  }
  return {
    name: att.name,
    contentType:
      typeof att.contentType === 'string' && att.contentType ? att.contentType : 'application/octet-stream',
    contentBytes: bytes.toString('base64'),
    size: bytes.length,
    isInline: att.isInline === true,
    ...(typeof att.contentId === 'string' && att.contentId ? { contentId: att.contentId } : {}),
  };
}
