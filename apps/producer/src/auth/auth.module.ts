import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { JwtModule } from '@nestjs/jwt';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../config.module';
import { OutboxModule } from '../outbox/outbox.module';
import { AuthController } from './auth.controller';
import { CodeStore } from './codes/code-store';
import { CodeThrottle } from './codes/code-throttle';
import { SystemMailOutbox } from './codes/system-mail-outbox';
import { CodeMail } from './codes/code-mail';
import { LogOutHandler } from './commands/log-out/log-out.handler';
import { RefreshSessionHandler } from './commands/refresh-session/refresh-session.handler';
import { RequestSignInCodeHandler } from './commands/request-sign-in-code/request-sign-in-code.handler';
import { ResendVerificationHandler } from './commands/resend-verification/resend-verification.handler';
import { SignInHandler } from './commands/sign-in/sign-in.handler';
import { SignUpHandler } from './commands/sign-up/sign-up.handler';
import { VerifyEmailHandler } from './commands/verify-email/verify-email.handler';
import { VerifySignInCodeHandler } from './commands/verify-sign-in-code/verify-sign-in-code.handler';
import { EmailVerificationController } from './email-verification.controller';
import { JwtAuthGuard } from './jwt-auth.guard';
import { MeController } from './me.controller';
import { OperatorRights } from './operator-rights';
import { PasswordHasher } from './passwords/password-hasher';
import { GetMeQueryHandler } from './queries/get-me/get-me.query-handler';
import { AuthThrottle } from './rate-limit/auth-throttle';
import { RateLimiter } from './rate-limit/rate-limiter';
import { RefreshCookie } from './session/refresh-cookie';
import { SessionIssuer } from './session/session-issuer';
import { AccessTokenIssuer } from './tokens/access-token-issuer';
import { jwtModuleOptions } from './tokens/jwt-options';

/** local users and sessions; exports the guard every authenticated route uses */
@Module({
  imports: [
    // global; importing it again elsewhere (e.g. in AppModule) resolves to the same buses
    CqrsModule,
    OutboxModule,
    JwtModule.registerAsync({
      inject: [PRODUCER_CONFIG],
      useFactory: (config: ProducerConfig) => jwtModuleOptions(config),
    }),
  ],
  controllers: [AuthController, EmailVerificationController, MeController],
  providers: [
    JwtAuthGuard,
    PasswordHasher,
    AccessTokenIssuer,
    SessionIssuer,
    RefreshCookie,
    RateLimiter,
    AuthThrottle,
    SignUpHandler,
    SignInHandler,
    RefreshSessionHandler,
    LogOutHandler,
    CodeStore,
    CodeThrottle,
    SystemMailOutbox,
    CodeMail,
    RequestSignInCodeHandler,
    VerifySignInCodeHandler,
    VerifyEmailHandler,
    ResendVerificationHandler,
    GetMeQueryHandler,
    OperatorRights,
  ],
  exports: [JwtModule, JwtAuthGuard, RateLimiter, OperatorRights],
})
export class AuthModule {}
