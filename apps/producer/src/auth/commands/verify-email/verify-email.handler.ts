import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { UsersRepository } from '@email-core/database';
import { AuthErrors } from '../../auth.errors';
import { codeCheckError } from '../../codes/code-errors';
import { CodeStore } from '../../codes/code-store';
import { CodeThrottle } from '../../codes/code-throttle';
import { verificationSubject } from '../../codes/code-mail';
import { VerifyEmailCommand, type EmailVerified } from './verify-email.command';

/** The signed-in user proves they receive mail at their address with the code the verification mail carried. */
@CommandHandler(VerifyEmailCommand)
export class VerifyEmailHandler implements ICommandHandler<VerifyEmailCommand, EmailVerified> {
  constructor(
    private readonly throttle: CodeThrottle,
    private readonly codes: CodeStore,
    private readonly users: UsersRepository,
  ) {}

  async execute({ userId, code, ip }: VerifyEmailCommand): Promise<EmailVerified> {
    await this.throttle.admitVerify(ip);
    const user = await this.users.findAuthority(userId);
    if (!user) throw AuthErrors.userGone();
    if (user.emailVerifiedAt) return { emailVerifiedAt: user.emailVerifiedAt.toISOString() };
    const error = codeCheckError(
      await this.codes.check('verify-email', verificationSubject(user.id, user.email), code),
    );
    if (error) throw error;
    const verifiedAt = await this.users.markEmailVerified(user.id, user.email);
    if (!verifiedAt) throw AuthErrors.userGone();
    return { emailVerifiedAt: verifiedAt.toISOString() };
  }
}
