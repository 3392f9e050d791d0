import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { METRICS_OPTIONS, type MetricsOptions } from './metrics.options';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * `METRICS_TOKEN` set: the scrape must carry `Authorization: Bearer <token>`, compared in constant time (both
 * sides hashed first, so neither the token's content nor its length shows in the timing); otherwise 401
 * `UNAUTHENTICATED`. Unset: every scrape is let through.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(@Inject(METRICS_OPTIONS) options: MetricsOptions) {
    this.expected = options.token ? digest(options.token) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const req = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    if (this.matches(req.headers.authorization)) return true;
    const res = context.switchToHttp().getResponse<{ setHeader?(name: string, value: string): void }>();
    res.setHeader?.('WWW-Authenticate', 'Bearer realm="metrics"');
    throw new UnauthorizedException({
      error: 'UNAUTHENTICATED',
      message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>',
    });
  }

  /** whether an Authorization header carries the token (always, with no token configured) */
  matches(header: string | string[] | undefined): boolean {
    if (!this.expected) return true;
    if (typeof header !== 'string') return false;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match) return false;
    return timingSafeEqual(digest(match[1]), this.expected);
  }
}
