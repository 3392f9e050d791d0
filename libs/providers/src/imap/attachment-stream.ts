import { Readable } from 'node:stream';
import type { AttachmentSource } from '../port';

/** How much of a large attachment is read from its source at a time. */
export const SOURCE_READ_BYTES = 4 * 1024 * 1024;

/**
 * A large attachment's bytes as a stream, read from its source a range at a time as the consumer of the stream
 * (nodemailer's base64 encoder) asks for more: one range in memory at a time, never the whole file.
 */
export function sourceStream(source: AttachmentSource, rangeBytes = SOURCE_READ_BYTES): Readable {
  async function* ranges(): AsyncGenerator<Buffer> {
    for (let start = 0; start < source.size; start += rangeBytes) {
      const end = Math.min(start + rangeBytes, source.size);
      const bytes = await source.read(start, end);
      if (bytes.length !== end - start) {
        throw new Error(`the attachment's source gave ${bytes.length} bytes for ${start}-${end - 1}`);
      }
      yield bytes;
    }
  }
  return Readable.from(ranges(), { objectMode: false });
}
