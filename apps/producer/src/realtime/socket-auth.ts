import { HttpException, Injectable } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { JwtService } from '@nestjs/jwt';
import type { AuthUser } from '../auth/auth-user';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';

/** What a refused handshake carries to the client's `connect_error` as `err.data`. */
export interface ConnectErrorData {
  code: 'UNAUTHENTICATED' | 'ORIGIN_NOT_ALLOWED';
  message: string;
}

export type ConnectError = Error & { data: ConnectErrorData };

export function connectError(code: ConnectErrorData['code'], message: string): ConnectError {
  return Object.assign(new Error(message), { data: { code, message } });
}

/** The parts of a socket.io handshake the token can come from. */
export interface HandshakeCredentials {
  auth: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The access token of a handshake: `auth.token` (what socket.io clients send, with or without a `Bearer ` prefix),
 * else an `Authorization: Bearer` header. Never the query string: URLs end up in access logs.
 */
export function handshakeToken(handshake: HandshakeCredentials): string | undefined {
  const fromAuth = handshake.auth.token;
  if (typeof fromAuth === 'string' && fromAuth.trim() !== '')
    return fromAuth.trim().replace(/^Bearer\s+/i, '');
  const header = handshake.headers.authorization;
  const m = /^Bearer\s+(.+)$/i.exec(typeof header === 'string' ? header : '');
  return m?.[1]?.trim() || undefined;
}

export interface SocketIdentity {
  user: AuthUser;
  /** when the access token expires (ms since the epoch): the socket is closed then */
  expiresAt: number | undefined;
}

/**
 * Authenticates a socket handshake with exactly the check the REST API uses: the token goes through
 * JwtAuthGuard as the bearer of a request, so a token the API refuses is refused here, for the same reasons.
 */
@Injectable()
export class SocketAuthenticator {
  constructor(
    private readonly guard: JwtAuthGuard,
    private readonly jwt: JwtService,
  ) {}

  async authenticate(handshake: HandshakeCredentials): Promise<SocketIdentity> {
    const token = handshakeToken(handshake);
    if (!token) throw connectError('UNAUTHENTICATED', 'an access token is required');
    const req: { headers: { authorization: string }; user?: AuthUser } = {
      headers: { authorization: `Bearer ${token}` },
    };
    try {
      await this.guard.canActivate(new ExecutionContextHost([req]));
    } catch (err) {
      throw connectError('UNAUTHENTICATED', refusal(err));
    }
    if (!req.user) throw connectError('UNAUTHENTICATED', 'the access token is invalid or expired');
    const exp = this.jwt.decode<{ exp?: unknown } | null>(token)?.exp;
    return { user: req.user, expiresAt: typeof exp === 'number' ? exp * 1000 : undefined };
  }
}

/** the guard's own wording (it never holds the token); a generic one for anything unexpected */
function refusal(err: unknown): string {
  if (err instanceof HttpException) {
    const body = err.getResponse();
    if (
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { message?: unknown }).message === 'string'
    )
      return (body as { message: string }).message;
  }
  return 'the access token is invalid or expired';
}
