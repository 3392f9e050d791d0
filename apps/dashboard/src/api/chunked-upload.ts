import { UPLOAD_CHUNK_MAX_BYTES } from '@email-core/contracts/uploads';
import { ApiError, api, unwrap, type Schemas } from './client';

export type UploadSession = Schemas['UploadSessionDto'];

/** What a chunk that failed without a clear answer gets: this many tries, the waits between them growing. */
const TRIES = 4;
const FIRST_WAIT_MS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** worth trying again: no answer at all, the server throttled us, or it was briefly unavailable */
function transient(err: unknown): boolean {
  if (!(err instanceof ApiError)) return true;
  return err.status === 429 || err.status >= 500;
}

/**
 * Sends a file in chunks through an upload session (`POST /uploads/sessions`, then `PUT /uploads/{id}` with
 * `Content-Range`, UPLOAD_CHUNK_MAX_BYTES each, in order; docs/attachments.md): the browser reads one slice of
 * the file at a time, so a 150 MB file never sits in memory whole. A chunk that fails without a clear answer is
 * tried again from where the server says the session stands (`GET /uploads/{id}`), honouring Retry-After.
 * `onProgress` gets the bytes stored so far after each chunk.
 */
export async function uploadInChunks(
  file: File,
  onProgress?: (sent: number, total: number) => void,
): Promise<UploadSession> {
  let session = await unwrap(
    api.POST('/api/v1/uploads/sessions', {
      body: { name: file.name, contentType: file.type || 'application/octet-stream', size: file.size },
    }),
  );
  const id = session.uploadId;
  let failures = 0;
  while (!session.complete) {
    const start = session.received;
    const end = Math.min(start + UPLOAD_CHUNK_MAX_BYTES, file.size);
    try {
      session = await unwrap(
        api.PUT('/api/v1/uploads/{id}', {
          params: {
            path: { id },
            header: { 'content-range': `bytes ${start}-${end - 1}/${file.size}` },
          },
          headers: { 'Content-Type': 'application/octet-stream' },
          // a Blob slice: the browser streams it from the file
          body: file.slice(start, end) as unknown as string,
          bodySerializer: (body) => body,
        }),
      );
      failures = 0;
    } catch (err) {
      // 416: an earlier try of this chunk did arrive; anything transient: ask where the session stands
      const outOfOrder = err instanceof ApiError && err.status === 416;
      if (!outOfOrder && (!transient(err) || ++failures >= TRIES)) throw err;
      if (!outOfOrder) {
        const retryAfter = err instanceof ApiError ? err.retryAfterSeconds : undefined;
        await sleep(retryAfter !== undefined ? retryAfter * 1000 : FIRST_WAIT_MS * 2 ** (failures - 1));
      }
      session = await unwrap(api.GET('/api/v1/uploads/{id}', { params: { path: { id } } }));
    }
    onProgress?.(session.received, file.size);
  }
  return session;
}

/**
 * Drops an upload the user removed from the form (`DELETE /uploads/{id}`), so it stops counting against the
 * pending quotas; best effort (it expires after 24 h anyway).
 */
export function discardUpload(uploadId: string): void {
  void api.DELETE('/api/v1/uploads/{id}', { params: { path: { id: uploadId } } }).catch(() => undefined);
}
