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
   * Before any password work: counts the attempt against the client address, then against the email from that
   * address (AuthPolicy.signInBackoff), counted as a failure until {@link clearSignInFailures} says otherwise, in
   * one atomic step, so concurrent guesses cannot slip past the count. A refused attempt never sees the password.
   */
  async admitSignIn(ip: string, email: string): Promise<void> {
    const byIp = await this.limiter.consume('signin-ip', ip, AuthPolicy.signInPerIp);
    if (byIp.count > AuthPolicy.signInPerIp.limit) throw AuthErrors.rateLimited(byIp.retryAfterSeconds);
    const decision = await this.limiter.backoff(
      'signin',
      accountSubject(email),
      ip,
      AuthPolicy.signInBackoff,
    );
    if (!decision.admitted) throw AuthErrors.rateLimited(decision.retryAfterSeconds);
  }

  /** After the right password: this address's failures on this email are forgotten. */
  async clearSignInFailures(ip: string, email: string): Promise<void> {
    await this.limiter.clearBackoff('signin', accountSubject(email), ip);
  }

  async admitSignUp(ip: string): Promise<void> {
    const byIp = await this.limiter.consume('signup-ip', ip, AuthPolicy.signUpPerIp);
    if (byIp.count > AuthPolicy.signUpPerIp.limit) throw AuthErrors.rateLimited(byIp.retryAfterSeconds);
  }
}
