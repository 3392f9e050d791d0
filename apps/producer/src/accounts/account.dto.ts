import { ApiProperty } from '@nestjs/swagger';
import type { MailAccountSummary } from '@email-core/database';

/** A running sync's latest progress: what its last `sync.progress` event carried. */
export class SyncProgressDto {
  @ApiProperty({ description: 'folders in the mailbox when the sync started' })
  foldersTotal!: number;

  @ApiProperty({ description: 'folders finished so far' })
  foldersDone!: number;

  @ApiProperty({ description: 'messages written so far (can pass messagesTotal: mail arrives meanwhile)' })
  messagesSynced!: number;

  @ApiProperty({ description: "the mailbox's message count when the sync started" })
  messagesTotal!: number;

  @ApiProperty({ format: 'date-time', description: 'when the worker reported it' })
  at!: string;
}

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

  @ApiProperty({
    type: SyncProgressDto,
    nullable: true,
    description:
      "while status is syncing: the sync's latest progress report (the sync.progress socket event carries the next ones); null otherwise or before its first report",
  })
  syncProgress!: SyncProgressDto | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "the account's signature (sanitized HTML, PUT /accounts/:id/signature); null: none",
  })
  signatureHtml!: string | null;

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
      syncProgress: a.syncProgress
        ? {
            foldersTotal: a.syncProgress.foldersTotal,
            foldersDone: a.syncProgress.foldersDone,
            messagesSynced: a.syncProgress.messagesSynced,
            messagesTotal: a.syncProgress.messagesTotal,
            at: a.syncProgress.at,
          }
        : null,
      signatureHtml: a.signatureHtml,
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
