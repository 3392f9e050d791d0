import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { UsersRepository } from '@email-core/database';
import { codeCheckError } from '../../codes/code-errors';
import { CodeStore } from '../../codes/code-store';
import { CodeThrottle } from '../../codes/code-throttle';
import { SessionIssuer, type IssuedSession } from '../../session/session-issuer';
import { VerifySignInCodeCommand } from './verify-sign-in-code.command';

/**
 * Signs in with a mailed code: the right code (spent at once) proves the caller receives mail at the address, so
 * the user is found or created, and verified, and a session starts exactly as with a password.
 */
@CommandHandler(VerifySignInCodeCommand)
export class VerifySignInCodeHandler implements ICommandHandler<VerifySignInCodeCommand, IssuedSession> {
  constructor(
    private readonly throttle: CodeThrottle,
    private readonly codes: CodeStore,
    private readonly users: UsersRepository,
    private readonly sessions: SessionIssuer,
  ) {}

  async execute({ email, code, ip }: VerifySignInCodeCommand): Promise<IssuedSession> {
    await this.throttle.admitVerify(ip);
    const error = codeCheckError(await this.codes.check('sign-in', email, code));
    if (error) throw error;
    const user = await this.users.findOrCreateVerified({ id: randomUUID(), email });
    return this.sessions.startFamily(user);
  }
}
