import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { UsersRepository } from '@email-core/database';
import { AuthErrors } from '../../auth.errors';
import { PasswordHasher } from '../../passwords/password-hasher';
import { AuthThrottle } from '../../rate-limit/auth-throttle';
import { SessionIssuer, type IssuedSession } from '../../session/session-issuer';
import { SignUpCommand } from './sign-up.command';

@CommandHandler(SignUpCommand)
export class SignUpHandler implements ICommandHandler<SignUpCommand, IssuedSession> {
  constructor(
    private readonly throttle: AuthThrottle,
    private readonly hasher: PasswordHasher,
    private readonly users: UsersRepository,
    private readonly sessions: SessionIssuer,
  ) {}

  async execute({ email, password, ip }: SignUpCommand): Promise<IssuedSession> {
    await this.throttle.admitSignUp(ip);
    const passwordHash = await this.hasher.hash(password);
    const created = await this.users.createUser({ id: randomUUID(), email, passwordHash });
    if (!created.ok) throw AuthErrors.emailTaken();
    return this.sessions.startFamily(created.user);
  }
}
