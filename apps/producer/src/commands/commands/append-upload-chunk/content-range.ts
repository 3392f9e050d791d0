import { UploadErrors } from '../../upload-errors';

export interface ChunkRange {
  /** the first byte's offset */
  start: number;
  /** the last byte's offset (inclusive, as HTTP writes it) */
  last: number;
  /** the whole file's size */
  size: number;
}

/**
 * `Content-Range: bytes <first>-<last>/<size>` (RFC 9110 14.4) of a chunk of `length` bytes: the range must hold
 * exactly the bytes sent, and the size is the session's. Anything else is 400 INVALID_CONTENT_RANGE.
 */
export function parseContentRange(
  header: string | undefined,
  length: number,
  sessionSize: number,
): ChunkRange {
  if (!header) throw UploadErrors.invalidRange('missing');
  const m = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15})$/.exec(header.trim());
  if (!m) throw UploadErrors.invalidRange(`malformed "${header.slice(0, 60)}"`);
  const [start, last, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (last < start) throw UploadErrors.invalidRange('the last byte comes before the first');
  if (size !== sessionSize) throw UploadErrors.invalidRange(`the size is ${sessionSize}, not ${size}`);
  if (last >= size) throw UploadErrors.invalidRange('the range runs past the end of the file');
  if (last - start + 1 !== length) {
    throw UploadErrors.invalidRange(`the range holds ${last - start + 1} bytes but ${length} were sent`);
  }
  return { start, last, size };
}
