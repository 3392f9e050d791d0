import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { AccessTokenClaims, AuthUser } from '../auth-user';

/** Signs access tokens with the JwtModule's HS256 key and lifetime (auth.module.ts); JwtAuthGuard verifies them. */
@Injectable()
export class AccessTokenIssuer {
  constructor(private readonly jwt: JwtService) {}

  issue(user: AuthUser): Promise<string> {
    const claims: AccessTokenClaims = { sub: user.id, email: user.email, typ: 'access' };
    return this.jwt.signAsync(claims);
  }
}
