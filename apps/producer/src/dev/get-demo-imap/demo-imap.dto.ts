import { ApiProperty } from '@nestjs/swagger';

export class DemoMailServerDto {
  @ApiProperty({ example: '127.0.0.1' })
  host!: string;

  @ApiProperty({ example: 2993 })
  port!: number;

  @ApiProperty({ enum: ['tls', 'starttls'] })
  security!: 'tls' | 'starttls';

  @ApiProperty({ example: 'demo@email-core.localhost' })
  username!: string;

  @ApiProperty({ description: "the stack's DEV_MAIL_PASSWORD (development only)" })
  password!: string;
}

/** The demo mailbox's settings in the shape of `POST /accounts/imap`'s body, so a client can send them as they are. */
export class DemoImapSettingsDto {
  @ApiProperty({ example: 'demo@email-core.localhost' })
  email!: string;

  @ApiProperty({ type: DemoMailServerDto })
  imap!: DemoMailServerDto;

  @ApiProperty({ type: DemoMailServerDto })
  smtp!: DemoMailServerDto;
}
