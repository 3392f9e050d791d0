import { BadRequestException } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { MAX_SIGNATURE_HTML_CHARS } from '@email-core/contracts';
import { MailAccountsRepository } from '@email-core/database';
import { isBlankHtml, sanitizeMailHtml } from '@email-core/providers';
import { AccountErrors } from '../../account-errors';
import { SetSignatureCommand } from './set-signature.command';

/**
 * Stores an account's signature: sanitized here (the browser is never trusted; the same allow-list as a mail's
 * body), at most MAX_SIGNATURE_HTML_CHARS once sanitized (400 SIGNATURE_TOO_LONG), owner-only (another user's
 * account is 404 ACCOUNT_NOT_FOUND, like an unknown one). A blank signature removes it.
 */
@CommandHandler(SetSignatureCommand)
export class SetSignatureHandler implements ICommandHandler<SetSignatureCommand> {
  constructor(private readonly accounts: MailAccountsRepository) {}

  async execute({ userId, accountId, html }: SetSignatureCommand): Promise<{ signatureHtml: string | null }> {
    const clean = sanitizeMailHtml(html);
    const signatureHtml = isBlankHtml(clean) ? null : clean;
    if (signatureHtml !== null && signatureHtml.length > MAX_SIGNATURE_HTML_CHARS) {
      throw new BadRequestException({
        error: 'SIGNATURE_TOO_LONG',
        message: `the signature is ${signatureHtml.length} characters of HTML; at most ${MAX_SIGNATURE_HTML_CHARS}`,
      });
    }
    if (!(await this.accounts.setSignature(userId, accountId, signatureHtml)))
      throw AccountErrors.accountNotFound();
    return { signatureHtml };
  }
}
