import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { UsersRepository } from '@email-core/database';
import { AuthErrors } from '../../auth.errors';
import { PasswordHasher } from '../../passwords/password-hasher';
import { AuthThrottle } from '../../rate-limit/auth-throttle';
import { SessionIssuer, type IssuedSession } from '../../session/session-issuer';
import { SignInCommand } from './sign-in.command';

@CommandHandler(SignInCommand)
export class SignInHandler implements ICommandHandler<SignInCommand, IssuedSession> {
  constructor(
    private readonly throttle: AuthThrottle,
    private readonly hasher: PasswordHasher,
    private readonly users: UsersRepository,
    private readonly sessions: SessionIssuer,
  ) {}

  async execute({ email, password, ip }: SignInCommand): Promise<IssuedSession> {
    await this.throttle.admitSignIn(ip, email);
    const user = await this.users.findCredentialsByEmail(email);
    // An unknown address (or a user who only signs in by code) costs one argon2 verification too, so the
    // answer's timing does not reveal accounts.
    const hash = user?.passwordHash ?? null;
    const valid =
      hash !== null
        ? await this.hasher.verify(hash, password)
        : await this.hasher.verifyAgainstDummy(password).then(() => false);
    // admitSignIn already counted this attempt as a failure: only a success has something to record
    if (!user || hash === null || !valid) throw AuthErrors.invalidCredentials();
    await this.throttle.clearSignInFailures(ip, email);
    if (this.hasher.needsRehash(hash)) {
      await this.users.updatePasswordHash(user.id, await this.hasher.hash(password));
    }
    return this.sessions.startFamily({ id: user.id, email: user.email, createdAt: user.createdAt });
  }
}
