import { ApiProperty } from '@nestjs/swagger';
import { z } from 'zod';

/** `PUT /accounts/:id/signature`: the signature's HTML, as the editor wrote it (sanitized by the server). */
export const setSignatureSchema = z.object({ html: z.string().max(100_000) }).strict();
export type SetSignatureRequest = z.infer<typeof setSignatureSchema>;

export class SetSignatureDto {
  @ApiProperty({
    description:
      "the signature's HTML (bold, italic, lists, links…); sanitized by the server, at most 10,000 characters " +
      'once sanitized; an empty (or blank) one removes the signature',
    example: '<p><strong>Alice Adams</strong><br>Contoso</p>',
  })
  html!: string;
}

export class SignatureDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'the signature as stored (sanitized HTML); null: none',
  })
  signatureHtml!: string | null;
}
