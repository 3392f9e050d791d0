import type { SchemaObject } from '@nestjs/swagger';
import type { UserRecord } from '@email-core/database';
import type { IssuedSession } from './session/session-issuer';

/** A user as clients see them: an allow-list, so a new column never leaks by accident. */
export interface UserView {
  id: string;
  email: string;
  createdAt: string;
}

/** The body of sign-up, sign-in and refresh; the refresh token travels only in its cookie. */
export interface SessionResponse {
  accessToken: string;
  tokenType: 'Bearer';
  /** seconds */
  expiresIn: number;
  user: UserView;
}

export function toUserView(user: UserRecord): UserView {
  return { id: user.id, email: user.email, createdAt: user.createdAt.toISOString() };
}

export function toSessionResponse(session: IssuedSession): SessionResponse {
  return {
    accessToken: session.accessToken,
    tokenType: 'Bearer',
    expiresIn: session.accessTokenExpiresIn,
    user: toUserView(session.user),
  };
}

export const sessionResponseOpenApi: SchemaObject = {
  type: 'object',
  required: ['accessToken', 'tokenType', 'expiresIn', 'user'],
  properties: {
    accessToken: { type: 'string' },
    tokenType: { type: 'string', enum: ['Bearer'] },
    expiresIn: { type: 'integer', example: 900 },
    user: {
      type: 'object',
      required: ['id', 'email', 'createdAt'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        email: { type: 'string', format: 'email' },
        createdAt: { type: 'string', format: 'date-time' },
      },
    },
  },
};
