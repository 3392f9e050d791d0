import { ApiProperty } from '@nestjs/swagger';
import { z } from 'zod';
import type { CommandUploadView } from '@email-core/database';

/** `POST /uploads?name=<file name>`: the file's name travels in the query, its type in Content-Type. */
export const uploadQuerySchema = z.object({ name: z.string().min(1).max(255) }).strict();
export type UploadQuery = z.infer<typeof uploadQuerySchema>;

/** A Content-Type header as the attachment's type: without parameters, lower-cased, at most 255 characters. */
export function attachmentContentType(header: string | undefined): string {
  const type = (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) && type.length <= 255
    ? type
    : 'application/octet-stream';
}

/** An upload as the API shows it: name it as `{uploadId}` in a command's `attachments`. */
export class UploadDto {
  @ApiProperty({ format: 'uuid', description: "name it in a command's attachments as `{ uploadId }`" })
  uploadId!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty()
  contentType!: string;

  @ApiProperty({ description: 'bytes' })
  size!: number;

  @ApiProperty({ format: 'date-time', description: 'deleted then unless a command has taken it' })
  expiresAt!: string;

  static from(u: CommandUploadView): UploadDto {
    return { uploadId: u.id, name: u.name, contentType: u.contentType, size: u.size, expiresAt: u.expiresAt };
  }
}
