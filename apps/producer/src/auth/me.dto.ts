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
    description:
      'an operator (granted with `npm run ops:grant`, read from the database on every call): the Ops API answers them',
  })
  operator!: boolean;
}
