import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AuthUser } from '../auth/auth-user';

/** Every audit line starts with this, so a log pipeline can pick them out. */
export const OPS_AUDIT_PREFIX = 'ops-audit';

/** What OpsOperatorGuard leaves on the request for the audit line. */
export interface OpsAuditRequest {
  opsActor?: { userId: string; operator: boolean };
}

export interface OpsAuditEntry {
  /** ISO time the request arrived (it finished durationMs later): a line is ordered by when its request came in */
  at: string;
  /** the user id from a valid access token; null when there was none (401) */
  userId: string | null;
  /** whether the users table says they are an operator; null when the request never got that far */
  operator: boolean | null;
  method: string;
  /** the path only: never the query string, never a header, a body or a token */
  route: string;
  status: number;
  durationMs: number;
  /** the client hung up before the whole answer was sent */
  aborted: boolean;
}

const MAX_ROUTE = 200;

/** `ops-audit {"at":…,"userId":…,"operator":…,"method":…,"route":…,"status":…,"durationMs":…,"aborted":…}` */
export function opsAuditLine(entry: OpsAuditEntry): string {
  return `${OPS_AUDIT_PREFIX} ${JSON.stringify({
    at: entry.at,
    userId: entry.userId,
    operator: entry.operator,
    method: entry.method,
    route: entry.route,
    status: entry.status,
    durationMs: entry.durationMs,
    aborted: entry.aborted,
  })}`;
}

/** The path of the URL without its query, cut to a bounded length (a path holds no secret; a query might). */
export function auditRoute(originalUrl: string): string {
  const path = originalUrl.split('?', 1)[0] ?? '';
  return path.length > MAX_ROUTE ? `${path.slice(0, MAX_ROUTE)}…` : path;
}

/**
 * One audit line for every answer of the Ops API, whatever its status (401 and 403 included: a guard's refusal
 * never reaches an interceptor, so this is a middleware that waits for the response to finish). 2xx lines are
 * logged at `log` level, refusals and errors at `warn` (so they show even with LOG_LEVEL=warn).
 */
@Injectable()
export class OpsAuditMiddleware implements NestMiddleware {
  private readonly logger = new Logger('OpsAudit');

  use(req: Request & OpsAuditRequest & { user?: AuthUser }, res: Response, next: NextFunction): void {
    const arrivedAt = new Date().toISOString();
    const started = process.hrtime.bigint();
    const write = (aborted: boolean) => {
      const entry: OpsAuditEntry = {
        at: arrivedAt,
        userId: req.user?.id ?? null,
        operator: req.opsActor?.operator ?? null,
        method: req.method,
        route: auditRoute(req.originalUrl),
        status: res.statusCode,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
        aborted,
      };
      const line = opsAuditLine(entry);
      if (entry.status < 400) this.logger.log(line);
      else this.logger.warn(line);
    };
    let done = false;
    const once = (aborted: boolean) => {
      if (done) return;
      done = true;
      write(aborted);
    };
    res.on('finish', () => once(false));
    // a client that hangs up before the answer is sent is audited too
    res.on('close', () => once(!res.writableFinished));
    next();
  }
}
