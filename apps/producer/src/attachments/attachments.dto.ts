import { ApiProperty } from '@nestjs/swagger';
import type { RemoteAttachmentInfo } from '@email-core/providers';

/** One attachment as the API lists it: metadata only, never its content. */
export class AttachmentDto {
  @ApiProperty({ description: "Graph's attachment id (pass it URL-encoded to `/content`)" })
  id!: string;

  @ApiProperty({ example: 'q3.pdf' })
  name!: string;

  @ApiProperty({ example: 'application/pdf' })
  contentType!: string;

  @ApiProperty({ description: 'bytes, as Graph reports it' })
  size!: number;

  @ApiProperty({ description: 'shown in the body (an embedded image) rather than as a file' })
  isInline!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'logo@contoso.example',
    description:
      "the part's Content-ID without angle brackets: what a `cid:` reference in the HTML body names (an inline image)",
  })
  contentId!: string | null;

  static from(a: RemoteAttachmentInfo): AttachmentDto {
    return {
      id: a.id,
      name: a.name,
      contentType: a.contentType,
      size: a.size,
      isInline: a.isInline,
      contentId: a.contentId ?? null,
    };
  }
}

export class AttachmentListDto {
  @ApiProperty({ type: [AttachmentDto] })
  items!: AttachmentDto[];
}
