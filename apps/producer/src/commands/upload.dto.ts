import { ApiProperty } from '@nestjs/swagger';
import { z } from 'zod';
import { MAX_ATTACHMENT_BYTES, UPLOAD_CHUNK_MAX_BYTES } from '@email-core/contracts';
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

/** `POST /uploads/sessions`: the file to come, announced. */
export const uploadSessionRequestSchema = z
  .object({
    name: z.string().min(1).max(255),
    contentType: z.string().max(255).optional(),
    size: z.number().int().min(1),
  })
  .strict();
export type UploadSessionRequest = z.infer<typeof uploadSessionRequestSchema>;

export class UploadSessionRequestDto {
  @ApiProperty({ description: 'the file name the recipient sees', maxLength: 255 })
  name!: string;

  @ApiProperty({ required: false, description: "the file's type (application/octet-stream when missing)" })
  contentType?: string;

  @ApiProperty({ description: `the file's size in bytes, at most ${MAX_ATTACHMENT_BYTES}` })
  size!: number;
}

/** An upload session: where it stands, so a client can resume it from `received`. */
export class UploadSessionDto extends UploadDto {
  @ApiProperty({ description: 'bytes stored so far: the next chunk starts at this offset' })
  received!: number;

  @ApiProperty({ description: 'all `size` bytes are stored: a command can name it' })
  complete!: boolean;

  @ApiProperty({ description: 'the most bytes one PUT may carry', example: UPLOAD_CHUNK_MAX_BYTES })
  chunkMaxBytes!: number;

  static session(u: CommandUploadView): UploadSessionDto {
    return {
      ...UploadDto.from(u),
      received: u.received,
      complete: u.received === u.size,
      chunkMaxBytes: UPLOAD_CHUNK_MAX_BYTES,
    };
  }
}
