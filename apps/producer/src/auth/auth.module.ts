import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../config.module';
import { JwtAuthGuard } from './jwt-auth.guard';

/** local users and sessions; exports the guard every authenticated route uses */
@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [PRODUCER_CONFIG],
      useFactory: (config: ProducerConfig) => ({
        secret: config.jwtSecret,
        signOptions: { algorithm: 'HS256', expiresIn: '15m', issuer: 'email-core' },
        verifyOptions: { algorithms: ['HS256'], issuer: 'email-core' },
      }),
    }),
  ],
  providers: [JwtAuthGuard],
  exports: [JwtModule, JwtAuthGuard],
})
export class AuthModule {}
