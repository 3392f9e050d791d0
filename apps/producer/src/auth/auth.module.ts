import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { JwtModule } from '@nestjs/jwt';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../config.module';
import { AuthController } from './auth.controller';
import { AuthPolicy } from './auth.policy';
import { LogOutHandler } from './commands/log-out/log-out.handler';
import { RefreshSessionHandler } from './commands/refresh-session/refresh-session.handler';
import { SignInHandler } from './commands/sign-in/sign-in.handler';
import { SignUpHandler } from './commands/sign-up/sign-up.handler';
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

/** local users and sessions; exports the guard every authenticated route uses */
@Module({
  imports: [
    // global; importing it again elsewhere (e.g. in AppModule) resolves to the same buses
    CqrsModule,
    JwtModule.registerAsync({
      inject: [PRODUCER_CONFIG],
      useFactory: (config: ProducerConfig) => ({
        secret: config.jwtSecret,
        signOptions: {
          algorithm: 'HS256',
          expiresIn: AuthPolicy.accessTokenTtlSeconds,
          issuer: 'email-core',
        },
        verifyOptions: { algorithms: ['HS256'], issuer: 'email-core' },
      }),
    }),
  ],
  controllers: [AuthController, MeController],
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
    GetMeQueryHandler,
    OperatorRights,
  ],
  exports: [JwtModule, JwtAuthGuard, RateLimiter, OperatorRights],
})
export class AuthModule {}
