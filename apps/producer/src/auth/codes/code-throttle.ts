import { Inject, Injectable } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../../config.module';
import { AuthErrors } from '../auth.errors';
import { AuthPolicy } from '../auth.policy';
import { RateLimiter, type RateLimitRule } from '../rate-limit/rate-limiter';
import { codeSubjectKey } from './one-time-code';

/** The limits of mailed codes, each violation a 429 RATE_LIMITED with Retry-After; addresses are hashed in keys. */
@Injectable()
export class CodeThrottle {
  private readonly perEmail: RateLimitRule;
  private readonly perIp: RateLimitRule;

  constructor(
    private readonly limiter: RateLimiter,
    @Inject(PRODUCER_CONFIG) config: ProducerConfig,
  ) {
    this.perEmail = { limit: config.codes.requestsPerEmail, windowMs: AuthPolicy.codeRequestWindowMs };
    this.perIp = { limit: config.codes.requestsPerIp, windowMs: AuthPolicy.codeRequestWindowMs };
  }

  /** A sign-in code request: counted against the client address, then against the address asked for. */
  async admitRequest(ip: string, email: string): Promise<void> {
    await this.admit('code-request-ip', ip, this.perIp);
    await this.admit('code-request-email', codeSubjectKey(email), this.perEmail);
  }

  async admitVerify(ip: string): Promise<void> {
    await this.admit('code-verify-ip', ip, AuthPolicy.codeVerifyPerIp);
  }

  async admitResend(userId: string): Promise<void> {
    await this.admit('verify-email-resend', userId, AuthPolicy.verifyEmailResendPerUser);
  }

  private async admit(scope: string, subject: string, rule: RateLimitRule): Promise<void> {
    const counted = await this.limiter.consume(scope, subject, rule);
    if (counted.count > rule.limit) throw AuthErrors.rateLimited(counted.retryAfterSeconds);
  }
}
