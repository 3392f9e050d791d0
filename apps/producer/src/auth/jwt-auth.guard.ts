import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';
import type { AccessTokenClaims, AuthUser } from './auth-user';

/** `Authorization: Bearer <access token>`; anything else is 401 UNAUTHENTICATED */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(private readonly jwt: JwtService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) throw unauthenticated('an access token is required');
    try {
      const claims = await this.jwt.verifyAsync<AccessTokenClaims>(m[1], { algorithms: ['HS256'] });
      if (claims.typ !== 'access' || typeof claims.sub !== 'string') throw new Error('not an access token');
      req.user = { id: claims.sub, email: claims.email };
      return true;
    } catch {
      throw unauthenticated('the access token is invalid or expired');
    }
  }
}

export function unauthenticated(message: string): UnauthorizedException {
  return new UnauthorizedException({ error: 'UNAUTHENTICATED', message });
}
