import { ForbiddenException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** the admin API reshapes every mailbox, so only this machine may call it */
@Injectable()
export class LoopbackGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (LOOPBACK.has(req.socket.remoteAddress ?? '')) return true;
    throw new ForbiddenException({
      error: 'admin_loopback_only',
      message: 'The admin API answers loopback only.',
    });
  }
}
