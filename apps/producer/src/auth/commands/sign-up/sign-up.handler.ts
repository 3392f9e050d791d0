import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { UsersRepository } from '@email-core/database';
import { AuthErrors } from '../../auth.errors';
import { CodeMail } from '../../codes/code-mail';
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
    private readonly codeMail: CodeMail,
    private readonly dataSource: DataSource,
  ) {}

  async execute({ email, password, ip }: SignUpCommand): Promise<IssuedSession> {
    await this.throttle.admitSignUp(ip);
    const passwordHash = await this.hasher.hash(password);
    const id = randomUUID();
    // the new user is unverified: the verification mail commits with the row, or neither does
    const addMail = await this.codeMail.prepareVerification({ id, email });
    const user = await this.dataSource.transaction(async (manager) => {
      const created = await this.users.createUser({ id, email, passwordHash }, manager);
      if (!created.ok) throw AuthErrors.emailTaken();
      await addMail(manager);
      return created.user;
    });
    this.codeMail.committed();
    return this.sessions.startFamily(user);
  }
}
