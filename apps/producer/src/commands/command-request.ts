import { createHash } from 'node:crypto';
import {
  MAX_INLINE_ATTACHMENT_BYTES,
  type MailCommandRequest,
  type OutgoingAttachmentRequest,
} from '@email-core/contracts';
import { sanitizeMailHtml } from '@email-core/providers';
import { CommandErrors } from './command-errors';

/** An inline attachment decoded, as MailCommandsRepository stores it, at its place among the mail's attachments. */
export interface DecodedAttachment {
  name: string;
  contentType: string;
  content: Buffer;
  position: number;
}

/** An attachment uploaded beforehand (`POST /uploads`), at its place among the mail's attachments. */
export interface UploadedAttachmentRef {
  uploadId: string;
  position: number;
}

/** What the stored request keeps of an attachment (never its content). */
export interface AttachmentMetadata {
  name: string;
  contentType: string;
  size: number;
}

/**
 * Standard base64 (RFC 4648 §4) with its padding: what Graph's `contentBytes` takes. A loop over the characters, not
 * a regular expression: a grouped, repeated pattern over a 3 MB attachment overflowed V8's regexp backtracking stack
 * ("Maximum call stack size exceeded", seen under load in CI).
 */
function isBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  for (let i = 0; i < s.length - padding; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 65 && c <= 90) || // A-Z
      (c >= 97 && c <= 122) || // a-z
      (c >= 48 && c <= 57) || // 0-9
      c === 43 || // +
      c === 47; // /
    if (!ok) return false;
  }
  return true;
}

/** bytes that a valid base64 string decodes to, without decoding it */
function decodedLength(b64: string): number {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return (b64.length / 4) * 3 - padding;
}

/** JSON with object keys sorted at every level, so equal requests give equal text whatever the key order */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * SHA-256 over the validated request (defaults filled in, so an omitted default and an explicit one are the same
 * request), attachment content included, the client's `id` left out: the same id with another hash is another
 * request, a conflict.
 */
export function requestHash(request: MailCommandRequest): string {
  const { id: _id, ...rest } = request;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

function attachmentsOf(request: MailCommandRequest): OutgoingAttachmentRequest[] {
  if (request.action !== 'send' && request.action !== 'reply' && request.action !== 'forward') return [];
  return request.attachments;
}

/** The outgoing mail's inline attachments, decoded; 400 for bad base64, 413 for one over the inline limit. */
export function decodeAttachments(request: MailCommandRequest): DecodedAttachment[] {
  return attachmentsOf(request).flatMap((a, index) => {
    if ('uploadId' in a) return [];
    if (!isBase64(a.contentBase64)) throw CommandErrors.invalidAttachment(index, a.name);
    // checked before decoding: an oversized attachment is never held twice
    const size = decodedLength(a.contentBase64);
    if (size > MAX_INLINE_ATTACHMENT_BYTES) throw CommandErrors.attachmentTooLarge(index, a.name, size);
    return [
      {
        name: a.name,
        contentType: a.contentType,
        content: Buffer.from(a.contentBase64, 'base64'),
        position: index,
      },
    ];
  });
}

/** The outgoing mail's attachments that name an upload; 400 for an upload named twice. */
export function uploadedAttachments(request: MailCommandRequest): UploadedAttachmentRef[] {
  const seen = new Set<string>();
  return attachmentsOf(request).flatMap((a, index) => {
    if (!('uploadId' in a)) return [];
    const uploadId = a.uploadId.toLowerCase();
    if (seen.has(uploadId)) throw CommandErrors.duplicateUpload(index);
    seen.add(uploadId);
    return [{ uploadId, position: index }];
  });
}

/**
 * The request as stored in `mail_commands.request`: no id (it is the row's), attachments without content (an
 * upload's metadata from `uploads`, by upload id).
 */
export function storedRequest(
  request: MailCommandRequest,
  uploads: ReadonlyMap<string, AttachmentMetadata> = new Map(),
): Record<string, unknown> {
  const { id: _id, ...rest } = request;
  if (rest.action !== 'send' && rest.action !== 'reply' && rest.action !== 'forward') return rest;
  return {
    ...rest,
    attachments: rest.attachments.map((a): AttachmentMetadata => {
      if (!('uploadId' in a)) {
        return { name: a.name, contentType: a.contentType, size: decodedLength(a.contentBase64) };
      }
      const upload = uploads.get(a.uploadId.toLowerCase());
      if (!upload) throw new Error(`upload ${a.uploadId} was not resolved before storing the request`);
      return { name: upload.name, contentType: upload.contentType, size: upload.size };
    }),
  };
}

/**
 * The request with its HTML bodies sanitized (libs/providers' `sanitizeMailHtml`): what the browser sent is never
 * stored or sent as is. Text bodies and other actions are unchanged.
 */
export function sanitizedRequest<T extends MailCommandRequest>(request: T): T {
  if (!('body' in request) || !request.body || request.body.contentType !== 'html') return request;
  return { ...request, body: { ...request.body, content: sanitizeMailHtml(request.body.content) } };
}

/** The messages a command acts on (each once), which must all be in the account's mirror. */
export function targetMessageIds(request: MailCommandRequest): string[] {
  switch (request.action) {
    case 'markRead':
    case 'flag':
    case 'move':
    case 'delete':
      return [...new Set(request.messageIds)];
    case 'reply':
    case 'forward':
      return [request.messageId];
    case 'send':
      return [];
    // a draft's own id is not checked: on IMAP it changes with every save, and the worker resolves the draft
    // by its key (a draft gone is created anew by a save, counts as discarded, or fails a send)
    case 'saveDraft':
      return request.origin ? [request.origin.messageId] : [];
    case 'discardDraft':
    case 'sendDraft':
      return [];
  }
}

/** 400 NO_RECIPIENTS for a new mail or a forward addressed to nobody (a reply goes to the original's sender). */
export function checkRecipients(request: MailCommandRequest): void {
  if (request.action === 'send') {
    const count = request.toRecipients.length + request.ccRecipients.length + request.bccRecipients.length;
    if (count === 0) throw CommandErrors.noRecipients();
  }
  if (request.action === 'forward' && request.toRecipients.length === 0) throw CommandErrors.noRecipients();
}
