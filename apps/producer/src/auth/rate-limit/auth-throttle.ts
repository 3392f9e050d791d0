import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AuthErrors } from '../auth.errors';
import { AuthPolicy } from '../auth.policy';
import { RateLimiter } from './rate-limiter';

/** Email addresses are hashed into the counter's key, so Redis holds no address. */
export function accountSubject(email: string): string {
  return createHash('sha256').update(email.toLowerCase(), 'utf8').digest('hex').slice(0, 32);
}

/** The sign-in and sign-up limits of AuthPolicy, each violation a 429 RATE_LIMITED with Retry-After. */
@Injectable()
export class AuthThrottle {
  constructor(private readonly limiter: RateLimiter) {}

  /**
   * Before any password work: counts the attempt against the address, and refuses an account that has had too
   * many failures, without looking at the password, so guessing on a locked account learns nothing.
   */
  async admitSignIn(ip: string, email: string): Promise<void> {
    const byIp = await this.limiter.consume('signin-ip', ip, AuthPolicy.signInPerIp);
    if (byIp.count > AuthPolicy.signInPerIp.limit) throw AuthErrors.rateLimited(byIp.retryAfterSeconds);
    const rule = AuthPolicy.signInFailuresPerAccount;
    const failures = await this.limiter.peek('signin-failures', accountSubject(email), rule);
    if (failures.count >= rule.limit) throw AuthErrors.rateLimited(failures.retryAfterSeconds);
  }

  async recordSignInFailure(email: string): Promise<void> {
    await this.limiter.consume('signin-failures', accountSubject(email), AuthPolicy.signInFailuresPerAccount);
  }

  async clearSignInFailures(email: string): Promise<void> {
    await this.limiter.reset('signin-failures', accountSubject(email));
  }

  async admitSignUp(ip: string): Promise<void> {
    const byIp = await this.limiter.consume('signup-ip', ip, AuthPolicy.signUpPerIp);
    if (byIp.count > AuthPolicy.signUpPerIp.limit) throw AuthErrors.rateLimited(byIp.retryAfterSeconds);
  }
}
