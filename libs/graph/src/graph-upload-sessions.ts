import type { Client } from '@microsoft/microsoft-graph-client';
import type { FetchLike } from './graph-middleware';
import { toGraphFailure } from './graph-mapping';
import { retryAfterMs } from './retry-after';
import { GraphRequestError, GraphTransientError } from './types';

/** Graph's chunks are multiples of 320 KiB (all but the last); 10 of them per PUT, under Outlook's 4 MB advice. */
export const UPLOAD_SESSION_CHUNK_BYTES = 10 * 320 * 1024;

/** A file whose bytes are read a range at a time (from Postgres), never whole. */
export interface LargeAttachment {
  name: string;
  contentType: string;
  size: number;
  /** the bytes [start, end) */
  read(start: number, end: number): Promise<Buffer>;
}

export interface UploadSessionOptions {
  /** `https://graph.microsoft.com` or the emulator's origin: its upload URLs are on the same origin */
  graphBaseUrl: string;
  /** the fetch of Graph requests (it trusts the emulator's CA under `npm start`) */
  fetch?: FetchLike;
  /** bytes per PUT: a multiple of 320 KiB */
  chunkBytes?: number;
  /** failed PUTs in a row (network, 5xx, 429) after which the upload gives up */
  maxFailures?: number;
  /** per PUT, body included (default 60 s) */
  requestTimeoutMs?: number;
  /** tests: replaces the wait between tries */
  sleep?: (ms: number) => Promise<void>;
}

/** Outlook's own host for upload URLs; the emulator's are on its Graph origin. */
const OUTLOOK_UPLOAD_HOSTS = new Set(['outlook.office.com', 'outlook.office365.com']);

interface SessionState {
  nextExpectedRanges?: string[];
}

/**
 * Large attachments (3 to 150 MB) through Graph's upload sessions
 * (https://learn.microsoft.com/graph/outlook-large-attachments): `createUploadSession` on the draft through the
 * SDK (token, limits and retries as every Graph call), then the file in order as `PUT`s of `chunkBytes` on the
 * pre-authenticated upload URL, with `Content-Range` and without the bearer token (the URL carries its own; the
 * token is never sent to it). Each chunk is read from the source just before its PUT, so memory holds one chunk.
 * A PUT that fails without a clear answer (network, timeout, 5xx, 429) is retried from where Graph says it stands:
 * `GET` on the upload URL gives `nextExpectedRanges`, and the upload resumes at its first byte; a 416 (the range
 * was not the expected one: an earlier PUT did arrive) resumes the same way. Errors come out as the SDK's:
 * `GraphRequestError` (refused) or `GraphTransientError` (unavailable after `maxFailures` tries).
 */
export class GraphUploadSessions {
  private readonly fetch: FetchLike;
  private readonly chunkBytes: number;
  private readonly maxFailures: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly graphOrigin: string;

  constructor(
    private readonly sdk: Client,
    options: UploadSessionOptions,
  ) {
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.chunkBytes = options.chunkBytes ?? UPLOAD_SESSION_CHUNK_BYTES;
    if (this.chunkBytes % (320 * 1024) !== 0) throw new Error('chunkBytes must be a multiple of 320 KiB');
    this.maxFailures = options.maxFailures ?? 5;
    this.timeoutMs = options.requestTimeoutMs ?? 60_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.graphOrigin = new URL(options.graphBaseUrl).origin;
  }

  /** Attaches `file` to the message (a draft) `messageId` through an upload session. */
  async attach(messageId: string, file: LargeAttachment): Promise<void> {
    let session: { uploadUrl: string };
    try {
      session = (await this.sdk
        .api(`/me/messages/${encodeURIComponent(messageId)}/attachments/createUploadSession`)
        .post({
          AttachmentItem: {
            attachmentType: 'file',
            name: file.name,
            size: file.size,
            contentType: file.contentType,
          },
        })) as { uploadUrl: string };
    } catch (err) {
      throw toGraphFailure(err);
    }
    const url = this.checkedUploadUrl(session.uploadUrl);
    let offset = 0;
    let failures = 0;
    while (offset < file.size) {
      const end = Math.min(offset + this.chunkBytes, file.size);
      const bytes = await file.read(offset, end);
      if (bytes.length !== end - offset) {
        throw new Error(`the attachment source gave ${bytes.length} bytes for ${offset}-${end - 1}`);
      }
      const answer = await this.put(url, bytes, offset, file.size);
      if (answer.kind === 'done') return;
      if (answer.kind === 'next') {
        offset = answer.offset;
        failures = 0;
        continue;
      }
      // no clear answer, or not the expected range: ask where the session stands and go on from there
      if (answer.kind === 'failed' && ++failures >= this.maxFailures) throw answer.error;
      if (answer.kind === 'failed') await this.sleep(answer.waitMs);
      offset = await this.resumeAt(url, answer.kind === 'failed' ? answer.error : undefined);
    }
  }

  private async put(
    url: string,
    bytes: Buffer,
    start: number,
    total: number,
  ): Promise<
    | { kind: 'done' }
    | { kind: 'next'; offset: number }
    | { kind: 'range' }
    | { kind: 'failed'; error: Error; waitMs: number }
  > {
    let res: Response;
    try {
      res = await this.fetch(url, {
        method: 'PUT',
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `bytes ${start}-${start + bytes.length - 1}/${total}`,
        },
        body: bytes,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const message = `upload session PUT failed: ${(err as Error).message}`;
      return { kind: 'failed', error: new GraphTransientError(0, 'NETWORK_ERROR', message), waitMs: 1000 };
    }
    if (res.status === 201) {
      await res.body?.cancel();
      return { kind: 'done' };
    }
    const state = (await res.json().catch(() => ({}))) as SessionState & {
      error?: { code?: string; message?: string };
    };
    if (res.status === 200) {
      const next = firstExpected(state);
      if (next === undefined)
        throw new GraphRequestError(502, 'InvalidUploadSession', 'no nextExpectedRanges');
      return { kind: 'next', offset: next };
    }
    if (res.status === 416) return { kind: 'range' };
    const code = state.error?.code ?? `HTTP_${res.status}`;
    const message = state.error?.message ?? `upload session PUT answered ${res.status}`;
    if (res.status === 429 || res.status >= 500) {
      const waitMs = retryAfterMs(res.headers.get('retry-after'), { fallbackMs: 1000, maxMs: 60_000 });
      return { kind: 'failed', error: new GraphTransientError(res.status, code, message, waitMs), waitMs };
    }
    throw new GraphRequestError(res.status, code, message);
  }

  /** `GET` on the upload URL: the first byte Graph still expects. */
  private async resumeAt(url: string, cause: Error | undefined): Promise<number> {
    let res: Response;
    try {
      res = await this.fetch(url, { method: 'GET', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw cause ?? new GraphTransientError(0, 'NETWORK_ERROR', (err as Error).message);
    }
    const state = (await res.json().catch(() => ({}))) as SessionState & {
      error?: { code?: string; message?: string };
    };
    const next = res.ok ? firstExpected(state) : undefined;
    if (next === undefined) {
      const code = state.error?.code ?? `HTTP_${res.status}`;
      const message =
        state.error?.message ?? `the upload session answered ${res.status} when asked where it stands`;
      throw res.status >= 500 || res.status === 429
        ? new GraphTransientError(res.status, code, message)
        : new GraphRequestError(res.status, code, message);
    }
    return next;
  }

  /** Only https, and only Graph's origin (the emulator) or Outlook's upload hosts: the URL comes from an answer. */
  private checkedUploadUrl(raw: unknown): string {
    let url: URL;
    try {
      url = new URL(String(raw));
    } catch {
      throw new GraphRequestError(502, 'InvalidUploadSession', 'the upload session has no valid uploadUrl');
    }
    const allowed =
      url.protocol === 'https:' &&
      (url.origin === this.graphOrigin || OUTLOOK_UPLOAD_HOSTS.has(url.hostname));
    if (!allowed) {
      throw new GraphRequestError(
        502,
        'InvalidUploadSession',
        `an uploadUrl on an unexpected host (${url.host})`,
      );
    }
    return url.toString();
  }
}

/** `"2097152"` or `"2097152-3483321"` or `"0-"`: the first byte expected */
function firstExpected(state: SessionState): number | undefined {
  const first = state.nextExpectedRanges?.[0];
  const m = first === undefined ? null : /^(\d+)/.exec(first);
  return m ? Number(m[1]) : undefined;
}
