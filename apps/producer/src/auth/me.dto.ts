import { ApiProperty } from '@nestjs/swagger';
import type { UserView } from './session-response';

/** `GET /me`: the user, and whether they may use the Ops API (so the dashboard knows to show its tab). */
export class MeDto implements UserView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'email' })
  email!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ description: 'named in OPS_ADMIN_EMAILS (or it is `*`): the Ops API answers them' })
  operator!: boolean;
}
