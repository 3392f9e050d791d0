import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MailboxStore } from '../store/mailbox-store';
import type { Mailbox } from '../store/model';
import { attachmentId } from './attachments.routes';
import { jsonBody, messageInPath } from './graph-context';
import { GraphError } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';

const WRITE = ['Mail.ReadWrite'];
/** Graph: upload sessions are for files of 3 MB to 150 MB; smaller ones go inline */
export const MIN_SESSION_BYTES = 3 * 1024 * 1024;
export const MAX_SESSION_BYTES = 150 * 1024 * 1024;
/** how long an upload URL (and its embedded token) stays valid */
export const SESSION_LIFETIME_MS = 15 * 60_000;

interface Session {
  id: string;
  token: string;
  mailbox: Mailbox;
  /** the message's immutable id: the session follows it wherever it is moved */
  messageId: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  contentId?: string;
  parts: Buffer[];
  received: number;
  expiresAt: number;
}

/** The answer to one request on an upload URL (outside Graph's dispatcher: no bearer token, no throttling). */
export interface SessionResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '0000Z');

function error(status: number, code: string, message: string): SessionResponse {
  return { status, body: { error: { code, message } } };
}

/**
 * Graph's upload sessions for large attachments (https://learn.microsoft.com/graph/outlook-large-attachments):
 * `POST …/messages/{id}/attachments/createUploadSession` `{AttachmentItem: {attachmentType: 'file', name, size,
 * contentType?, isInline?, contentId?}}` answers 201 with a pre-authenticated `uploadUrl` (on this host, under
 * `/api/v2.0/`, as Outlook's is on outlook.office.com), `expirationDateTime` and `nextExpectedRanges: ["0-"]`.
 * The file's bytes then go, in order, as `PUT`s on that URL with `Content-Range: bytes {start}-{end}/{total}` and
 * no Authorization header: 200 with `nextExpectedRanges` while bytes are missing, 201 with a `Location` naming the
 * new attachment and an empty body once the last byte is in. `GET` on the URL tells where it stands (resuming),
 * `DELETE` cancels it (204). The checks Graph documents or implies: a file under 3 MB is
 * `ErrorAttachmentSizeShouldNotBeLessThanMinimumSize`; a range must start at the next expected byte (else 416),
 * hold exactly the bytes sent and name the session's size (else 400); an expired or unknown session is 404.
 */
@Injectable()
export class UploadSessions implements OnModuleInit {
  private readonly sessions = new Map<string, Session>();
  /** the clock; tests move it to expire sessions */
  now: () => number = Date.now;

  constructor(
    private readonly router: GraphRouter,
    private readonly store: MailboxStore,
  ) {}

  onModuleInit(): void {
    for (const base of ['me/messages/:id', 'me/mailFolders/:folder/messages/:id']) {
      this.router.add('POST', `${base}/attachments/createUploadSession`, (ctx) => this.create(ctx), {
        scopes: WRITE,
      });
    }
  }

  create(ctx: GraphContext): GraphResponse {
    const msg = messageInPath(this.store, ctx);
    const item = jsonBody(ctx).AttachmentItem as Record<string, unknown> | undefined;
    if (!item || typeof item !== 'object') {
      throw new GraphError(400, 'ErrorInvalidRequest', "The 'AttachmentItem' parameter is required.");
    }
    if (typeof item.attachmentType !== 'string' || item.attachmentType.toLowerCase() !== 'file') {
      throw new GraphError(
        400,
        'ErrorInvalidRequest',
        "Only 'file' attachments can be uploaded in a session.",
      );
    }
    const { name, size } = item;
    if (typeof name !== 'string' || !name || typeof size !== 'number' || !Number.isInteger(size)) {
      throw new GraphError(400, 'ErrorInvalidRequest', 'An AttachmentItem needs a name and an integer size.');
    }
    if (size < MIN_SESSION_BYTES) {
      throw new GraphError(
        400,
        'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
        'Attachment size should not be less than 3 MB; attach smaller files with a single POST.',
      );
    }
    if (size > MAX_SESSION_BYTES) {
      throw new GraphError(
        400,
        'ErrorAttachmentSizeLimitExceeded',
        'Attachment size exceeds the 150 MB limit.',
      );
    }
    const session: Session = {
      id: randomUUID(),
      token: randomBytes(24).toString('base64url'),
      mailbox: ctx.mailbox,
      messageId: msg.immutableId,
      name,
      contentType:
        typeof item.contentType === 'string' && item.contentType
          ? item.contentType
          : 'application/octet-stream',
      size,
      isInline: item.isInline === true,
      ...(typeof item.contentId === 'string' && item.contentId ? { contentId: item.contentId } : {}),
      parts: [],
      received: 0,
      expiresAt: this.now() + SESSION_LIFETIME_MS,
    };
    this.sweep();
    this.sessions.set(session.id, session);
    return {
      status: 201,
      body: {
        '@odata.context': `${ctx.origin}/v1.0/$metadata#microsoft.graph.uploadSession`,
        uploadUrl: `${ctx.origin}${this.sessionPath(session)}?authtoken=${session.token}`,
        expirationDateTime: iso(session.expiresAt),
        nextExpectedRanges: ['0-'],
      },
    };
  }

  /** `PUT` on an upload URL: the next range of the file's bytes. */
  put(
    origin: string,
    path: string,
    token: string | null,
    contentRange: string | undefined,
    bytes: Buffer,
  ): SessionResponse {
    const found = this.session(path, token);
    if ('status' in found) return found;
    const s = found;
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec((contentRange ?? '').trim());
    if (!m) return error(400, 'ErrorInvalidRequest', 'The Content-Range header is missing or malformed.');
    const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (total !== s.size) {
      return error(400, 'ErrorInvalidRequest', `The total size in Content-Range must be ${s.size}.`);
    }
    if (end < start || end >= s.size) {
      return error(400, 'ErrorInvalidRequest', 'The Content-Range is outside the file.');
    }
    if (end - start + 1 !== bytes.length) {
      return error(400, 'ErrorInvalidRequest', 'The Content-Range does not match the number of bytes sent.');
    }
    if (start !== s.received) {
      return error(
        416,
        'InvalidRange',
        `The uploaded range must start at the next expected byte, ${s.received}; bytes are uploaded in order.`,
      );
    }
    s.parts.push(bytes);
    s.received += bytes.length;
    if (s.received < s.size) {
      return {
        status: 200,
        body: { ...this.entity(origin, s), nextExpectedRanges: [String(s.received)] },
      };
    }
    return this.complete(origin, s);
  }

  /** `GET` on an upload URL: where the session stands (what to send next). */
  status(origin: string, path: string, token: string | null): SessionResponse {
    const found = this.session(path, token);
    if ('status' in found) return found;
    return {
      status: 200,
      body: { ...this.entity(origin, found), nextExpectedRanges: [`${found.received}-${found.size - 1}`] },
    };
  }

  /** `DELETE` on an upload URL: the session is cancelled. */
  cancel(path: string, token: string | null): SessionResponse {
    const found = this.session(path, token);
    if ('status' in found) return found;
    this.sessions.delete(found.id);
    return { status: 204 };
  }

  private complete(origin: string, s: Session): SessionResponse {
    this.sessions.delete(s.id);
    const msg = this.store.getMessage(s.mailbox, s.messageId);
    if (!msg) return error(404, 'ErrorItemNotFound', 'The message of this upload session no longer exists.');
    const bytes = Buffer.concat(s.parts, s.size);
    s.parts = [];
    const added = this.store.addAttachment(msg, {
      name: s.name,
      contentType: s.contentType,
      contentBytes: bytes.toString('base64'),
      size: s.size,
      isInline: s.isInline,
      ...(s.contentId ? { contentId: s.contentId } : {}),
    });
    const index = this.store.attachments(msg).indexOf(added);
    const location =
      `${origin}/api/v2.0/Users('${s.mailbox.userId}')/Messages('${msg.immutableId}')` +
      `/Attachments('${attachmentId(msg, added, index)}')`;
    return { status: 201, headers: { Location: location, 'Content-Length': '0' } };
  }

  private session(path: string, token: string | null): Session | SessionResponse {
    const m = /AttachmentSessions\('([^']+)'\)$/.exec(decodeURIComponent(path));
    const s = m ? this.sessions.get(m[1]) : undefined;
    if (!s || this.now() >= s.expiresAt) {
      if (s) this.sessions.delete(s.id);
      return error(404, 'ErrorItemNotFound', 'The upload session was not found or has expired.');
    }
    if (!token || !sameToken(token, s.token)) {
      return error(401, 'InvalidAuthenticationToken', 'The authtoken of the upload URL is not valid.');
    }
    return s;
  }

  private sessionPath(s: Session): string {
    return `/api/v2.0/Users('${s.mailbox.userId}')/Messages('${s.messageId}')/AttachmentSessions('${s.id}')`;
  }

  private entity(origin: string, s: Session): Record<string, unknown> {
    return {
      '@odata.context':
        `${origin}/api/v2.0/$metadata#Users('${encodeURIComponent(s.mailbox.userId)}')` +
        `/Messages('${encodeURIComponent(s.messageId)}')/AttachmentSessions/$entity`,
      ExpirationDateTime: iso(s.expiresAt),
    };
  }

  /** expired sessions are dropped (with their bytes) as new ones open */
  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (now >= s.expiresAt) this.sessions.delete(id);
  }

  /** sessions open now (tests, stats) */
  get open(): number {
    return this.sessions.size;
  }
}

function sameToken(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return ha.equals(hb);
}
