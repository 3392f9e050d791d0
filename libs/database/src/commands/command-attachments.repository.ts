import type { DataSource } from 'typeorm';

/**
 * An outgoing mail's attachment as the worker loads it: a small one with its bytes, one uploaded in chunks
 * (`content` null) to be read a range at a time with `readRange`, never whole.
 */
export interface StoredCommandAttachment {
  position: number;
  name: string;
  contentType: string;
  size: number;
  content: Buffer | null;
}

/** An attachment as the provider adapters send it (the port's OutgoingAttachment, structurally). */
export interface AttachmentToSend {
  name: string;
  contentType: string;
  content: Buffer | { size: number; read(start: number, end: number): Promise<Buffer> };
}

/**
 * A command's attachments for the worker (docs/attachments.md): `mail_command_attachments`, and for those that
 * came from an upload session their bytes in `attachment_chunks`, read slice by slice (`substring` on uncompressed
 * chunks reads only the slice), so a 150 MB attachment never sits whole in the worker's memory.
 */
export class CommandAttachmentsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The command's attachments in their order: small ones with their bytes, chunked ones without. */
  async load(commandId: string): Promise<StoredCommandAttachment[]> {
    const rows: Array<{
      position: number;
      name: string;
      content_type: string;
      size: number;
      content: Buffer | null;
    }> = await this.dataSource.query(
      `SELECT position, name, content_type, size, content FROM mail_command_attachments
        WHERE command_id = $1 ORDER BY position`,
      [commandId],
    );
    return rows.map((r) => ({
      position: r.position,
      name: r.name,
      contentType: r.content_type,
      size: r.size,
      content: r.content,
    }));
  }

  /** The attachments to send: chunked ones read from `readRange` as the adapter asks for them. */
  async toSend(commandId: string): Promise<AttachmentToSend[]> {
    return (await this.load(commandId)).map((a) => ({
      name: a.name,
      contentType: a.contentType,
      content: a.content ?? {
        size: a.size,
        read: (start: number, end: number) => this.readRange(commandId, a.position, start, end),
      },
    }));
  }

  /** The bytes [start, end) of a chunked attachment (fewer only if the attachment ends before `end`). */
  async readRange(commandId: string, position: number, start: number, end: number): Promise<Buffer> {
    if (end <= start) return Buffer.alloc(0);
    const rows: Array<{ data: Buffer }> = await this.dataSource.query(
      `SELECT substring(data FROM greatest($3 - start_byte, 0) + 1
                        FOR least(start_byte + length(data), $4) - greatest(start_byte, $3)) AS data
         FROM attachment_chunks
        WHERE command_id = $1 AND position = $2 AND start_byte < $4 AND start_byte + length(data) > $3
        ORDER BY start_byte`,
      [commandId, position, start, end],
    );
    return rows.length === 1 ? rows[0].data : Buffer.concat(rows.map((r) => r.data));
  }
}
