import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { ProducerConfig } from '@email-core/config';
import type { AuthUser } from '../auth/auth-user';
import { PRODUCER_CONFIG } from '../config.module';
import { isOpsOperator } from './ops-access';
import { OpsErrors } from './ops-errors';

/** After JwtAuthGuard: a signed-in user who is not an operator gets 403 OPS_FORBIDDEN. */
@Injectable()
export class OpsOperatorGuard implements CanActivate {
  constructor(@Inject(PRODUCER_CONFIG) private readonly config: ProducerConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const user = context.switchToHttp().getRequest<Request & { user?: AuthUser }>().user;
    if (!user || !isOpsOperator(this.config.ops, user.email)) throw OpsErrors.forbidden();
    return true;
  }
}
