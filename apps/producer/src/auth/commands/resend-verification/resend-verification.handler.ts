import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { UsersRepository } from '@email-core/database';
import { AuthErrors } from '../../auth.errors';
import { CodeThrottle } from '../../codes/code-throttle';
import { CodeMail } from '../../codes/code-mail';
import { ResendVerificationCommand } from './resend-verification.command';

/** A new verification mail for the signed-in user (the new code replaces the last one). */
@CommandHandler(ResendVerificationCommand)
export class ResendVerificationHandler implements ICommandHandler<ResendVerificationCommand, void> {
  constructor(
    private readonly throttle: CodeThrottle,
    private readonly users: UsersRepository,
    private readonly codeMail: CodeMail,
    private readonly dataSource: DataSource,
  ) {}

  async execute({ userId }: ResendVerificationCommand): Promise<void> {
    const user = await this.users.findAuthority(userId);
    if (!user) throw AuthErrors.userGone();
    if (user.emailVerifiedAt) throw AuthErrors.alreadyVerified();
    await this.throttle.admitResend(userId);
    const addMail = await this.codeMail.prepareVerification(user);
    await this.dataSource.transaction(addMail);
    this.codeMail.committed();
  }
}
