import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { MailAccountsRepository, MailAccountTokensRepository } from '@email-core/database';
import { ImapCredentialVault, MailLinkCheckError } from '@email-core/providers';
import { AccountErrors } from '../../account-errors';
import { SyncRequestOutbox } from '../../sync-request-outbox';
import { ImapLinkProbe } from '../../imap-link-probe';
import { LinkImapAccountCommand, type LinkImapAccountResult } from './link-imap-account.command';
import { AccountWrites } from '../../account-writes';

/**
 * Links an IMAP/SMTP mailbox. Nothing is stored before both servers took the logins (`ImapLinkProbe`); then the
 * account row (provider `imap`, external user id = the lower-cased address), its sealed settings and the
 * `sync.requested` that starts its first sync commit in one transaction, as for Outlook. Linking the same mailbox
 * again replaces the settings and puts the account back to `syncing` (clearing `reauth_required`).
 * The password is never logged: failures are logged by their code only.
 */
@CommandHandler(LinkImapAccountCommand)
export class LinkImapAccountHandler implements ICommandHandler<LinkImapAccountCommand> {
  private readonly logger = new Logger('ImapLink');

  constructor(
    private readonly probe: ImapLinkProbe,
    private readonly vault: ImapCredentialVault,
    private readonly accounts: MailAccountsRepository,
    private readonly tokens: MailAccountTokensRepository,
    private readonly syncRequests: SyncRequestOutbox,
    private readonly dataSource: DataSource,
    private readonly writes: AccountWrites,
  ) {}

  async execute({ userId, settings }: LinkImapAccountCommand): Promise<LinkImapAccountResult> {
    try {
      await this.probe.check(settings);
    } catch (err) {
      if (!(err instanceof MailLinkCheckError)) throw err;
      this.logger.log(`user ${userId}: IMAP link refused, ${err.code} (${err.server}: ${err.detail})`);
      throw AccountErrors.imapLinkFailed(err.code, err.server);
    }

    const account = await this.dataSource.transaction(async (manager) => {
      const linked = await this.accounts.upsertLinked(manager, {
        userId,
        provider: 'imap',
        externalUserId: settings.email.toLowerCase(),
        email: settings.email,
        displayName: '',
      });
      const version = await this.tokens.saveTokens(
        manager,
        linked.id,
        this.vault.seal(linked.id, settings),
        null,
      );
      if (version === null) throw new Error(`mail account ${linked.id} vanished while being linked`);
      await this.syncRequests.add(manager, linked.id, linked.created ? 'linked' : 'relinked');
      return linked;
    });
    this.syncRequests.committed();
    await this.writes.committed(account.id);
    this.logger.log(`user ${userId} ${account.created ? 'linked' : 're-linked'} IMAP account ${account.id}`);
    return { accountId: account.id, created: account.created };
  }
}
