import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RefreshSessionsRepository, type UserRecord } from '@email-core/database';
import { AuthPolicy } from '../auth.policy';
import { AccessTokenIssuer } from '../tokens/access-token-issuer';
import { hashRefreshToken, newRefreshToken } from '../tokens/refresh-token';

export interface NewRefreshToken {
  id: string;
  token: string;
  tokenHash: string;
  expiresAt: Date;
}

/** What a successful sign-up, sign-in or refresh hands the controller: the body's access token and the cookie's refresh token. */
export interface IssuedSession {
  user: UserRecord;
  accessToken: string;
  accessTokenExpiresIn: number;
  refresh: { token: string; expiresAt: Date };
}

@Injectable()
export class SessionIssuer {
  constructor(
    private readonly sessions: RefreshSessionsRepository,
    private readonly accessTokens: AccessTokenIssuer,
  ) {}

  /** A fresh refresh token, not stored yet. */
  newRefreshToken(now = Date.now()): NewRefreshToken {
    const token = newRefreshToken();
    return {
      id: randomUUID(),
      token,
      tokenHash: hashRefreshToken(token),
      expiresAt: new Date(now + AuthPolicy.refreshTokenTtlMs),
    };
  }

  /** Starts a new session family for a user who just proved who they are. */
  async startFamily(user: UserRecord): Promise<IssuedSession> {
    const refresh = this.newRefreshToken();
    await this.sessions.createSession({
      id: refresh.id,
      userId: user.id,
      familyId: randomUUID(),
      tokenHash: refresh.tokenHash,
      expiresAt: refresh.expiresAt,
    });
    return this.complete(user, refresh);
  }

  /** Adds an access token to a refresh token that is already stored. */
  async complete(user: UserRecord, refresh: NewRefreshToken): Promise<IssuedSession> {
    return {
      user,
      accessToken: await this.accessTokens.issue({ id: user.id, email: user.email }),
      accessTokenExpiresIn: AuthPolicy.accessTokenTtlSeconds,
      refresh: { token: refresh.token, expiresAt: refresh.expiresAt },
    };
  }
}
