import { ApiProperty } from '@nestjs/swagger';
import type { MailAccountSummary } from '@email-core/database';

/** One linked account as the API shows it: an allow-list, so no token column can ever slip through. */
export class AccountDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['outlook', 'imap'], description: 'where the mailbox lives' })
  provider!: string;

  @ApiProperty({ example: 'alice@contoso.example' })
  email!: string;

  @ApiProperty({ example: 'Alice Adams' })
  displayName!: string;

  @ApiProperty({ enum: ['syncing', 'synced', 'reauth_required', 'error'] })
  status!: MailAccountSummary['status'];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'why the account is in its status, when it says',
  })
  statusReason!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  syncStartedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  syncCompletedAt!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  static from(a: MailAccountSummary): AccountDto {
    return {
      id: a.id,
      provider: a.provider,
      email: a.email,
      displayName: a.displayName,
      status: a.status,
      statusReason: a.statusReason,
      syncStartedAt: a.syncStartedAt?.toISOString() ?? null,
      syncCompletedAt: a.syncCompletedAt?.toISOString() ?? null,
      createdAt: a.createdAt.toISOString(),
    };
  }
}

export class AccountListDto {
  @ApiProperty({ type: [AccountDto] })
  items!: AccountDto[];
}

export class AuthorizeUrlDto {
  @ApiProperty({ description: "Microsoft's sign-in page; the dashboard sends the browser there" })
  url!: string;
}

export class ResyncAcceptedDto {
  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ format: 'date-time' })
  requestedAt!: string;
}
