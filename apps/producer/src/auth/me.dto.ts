import { ApiProperty } from '@nestjs/swagger';
import type { MeView } from './queries/get-me/get-me.query';

/** `GET /me`: the user, and whether they may use the Ops API (so the dashboard knows to show its tab). */
export class MeDto implements MeView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'email' })
  email!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'when the user proved they receive mail at `email` (a code sign-up mailed, or sign-in by code); null until then: ' +
      'an unverified address never makes its user an operator through OPS_ADMIN_EMAILS',
  })
  emailVerifiedAt!: string | null;

  @ApiProperty({
    description:
      'an operator (granted with `npm run ops:grant`, read from the database on every call): the Ops API answers them',
  })
  operator!: boolean;
}
