import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthUser } from '../auth/auth-user';
import { OperatorRights } from '../auth/operator-rights';
import type { OpsAuditRequest } from './ops-audit';
import { OpsErrors } from './ops-errors';

/**
 * After JwtAuthGuard: a signed-in user who is not an operator gets 403 OPS_FORBIDDEN. The role comes from the
 * database on every request (OperatorRights), never from the token.
 */
@Injectable()
export class OpsOperatorGuard implements CanActivate {
  constructor(private readonly rights: OperatorRights) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request & OpsAuditRequest & { user?: AuthUser }>();
    if (!req.user) throw OpsErrors.forbidden();
    const operator = await this.rights.isOperator(req.user.id);
    // for the audit line: what the database said
    req.opsActor = { userId: req.user.id, operator };
    if (!operator) throw OpsErrors.forbidden();
    return true;
  }
}
