import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { FaultsService } from '../faults/faults.service';
import { MailboxStore } from '../store/mailbox-store';
import { AccessTokenInvalid, AccessTokenVerifier, type AccessClaims } from './access-claims';
import type { Grant } from './grant';
import { JwtFormatError, parseJwt, verifyRs256, type ParsedJwt } from './jwt';
import { GRAPH_RESOURCE } from './scopes';
import { SigningKeyService } from './signing-key.service';

/** Graph's own application id: the other audience form Graph accepts */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
}

/**
 * Access tokens for Graph (v1.0 JWTs, issuer sts.windows.net, as AAD issues them for Graph) and OpenID Connect
 * id tokens (v2.0), both RS256 with the emulator's signing key; and the Graph side's check of a bearer token,
 * answering with Graph's own texts.
 */
@Injectable()
export class TokenService extends AccessTokenVerifier {
  constructor(
    private readonly keys: SigningKeyService,
    private readonly mailboxes: MailboxStore,
    private readonly faults: FaultsService,
  ) {
    super();
  }

  /** lifetime of an access token now, seconds: the faults setting (3599 by default, as Microsoft) */
  get accessTokenLifetimeSeconds(): number {
    return this.faults.settings.accessTokenLifetimeSeconds;
  }

  issueAccessToken(grant: Grant, now = Date.now()): IssuedAccessToken {
    const mailbox = this.mailboxes.findByAddress(grant.address);
    const iat = Math.floor(now / 1000);
    const expiresIn = this.accessTokenLifetimeSeconds;
    const token = this.keys.sign({
      aud: GRAPH_RESOURCE,
      iss: `https://sts.windows.net/${grant.tenantId}/`,
      iat,
      nbf: iat,
      exp: iat + expiresIn,
      acr: '1',
      amr: ['pwd'],
      appid: grant.clientId,
      appidacr: grant.publicClient ? '0' : '1',
      idtyp: 'user',
      name: mailbox?.displayName ?? grant.address,
      oid: grant.userId,
      scp: grant.scopes.join(' '),
      sub: pairwiseSubject(grant.userId, GRAPH_RESOURCE),
      tid: grant.tenantId,
      unique_name: grant.address,
      upn: grant.address,
      preferred_username: grant.address,
      // unique per token, so two tokens issued within the same second still differ
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    });
    return { token, expiresIn };
  }

  /** `issuerOrigin` is the origin the client reached the emulator at, as in the discovery document's issuer */
  issueIdToken(grant: Grant, issuerOrigin: string, nonce: string | undefined, now = Date.now()): string {
    const mailbox = this.mailboxes.findByAddress(grant.address);
    const iat = Math.floor(now / 1000);
    return this.keys.sign({
      aud: grant.clientId,
      iss: `${issuerOrigin}/${grant.tenantId}/v2.0`,
      iat,
      nbf: iat,
      exp: iat + 3600,
      auth_time: Math.floor(grant.authTime / 1000),
      email: grant.address,
      name: mailbox?.displayName ?? grant.address,
      ...(nonce !== undefined ? { nonce } : {}),
      oid: grant.userId,
      preferred_username: grant.address,
      sub: pairwiseSubject(grant.userId, grant.clientId),
      tid: grant.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '2.0',
    });
  }

  verify(token: string | undefined, now = Date.now()): AccessClaims {
    if (token === undefined || token.trim() === '') throw new AccessTokenInvalid('Access token is empty.');
    let jwt: ParsedJwt;
    try {
      jwt = parseJwt(token.trim());
    } catch (err) {
      if (err instanceof JwtFormatError) {
        throw new AccessTokenInvalid('CompactToken parsing failed with error code: 80049217');
      }
      throw err;
    }
    const key = this.keys.publicKeyFor(jwt.header.kid);
    if (!key || !verifyRs256(jwt, key)) throw new AccessTokenInvalid('Access token validation failure.');
    const c = jwt.claims;
    if (c.aud !== GRAPH_RESOURCE && c.aud !== `${GRAPH_RESOURCE}/` && c.aud !== GRAPH_APP_ID) {
      throw new AccessTokenInvalid('Access token validation failure. Invalid audience.');
    }
    const seconds = Math.floor(now / 1000);
    if (typeof c.exp !== 'number' || typeof c.nbf !== 'number' || seconds >= c.exp || seconds < c.nbf) {
      throw new AccessTokenInvalid('Access token has expired or is not yet valid.');
    }
    const upn = typeof c.upn === 'string' ? c.upn : '';
    const mailbox = this.mailboxes.findByAddress(upn);
    if (
      !mailbox ||
      mailbox.userId !== c.oid ||
      mailbox.tenantId !== c.tid ||
      c.iss !== `https://sts.windows.net/${mailbox.tenantId}/` ||
      typeof c.appid !== 'string'
    ) {
      throw new AccessTokenInvalid('Access token validation failure.');
    }
    return {
      address: mailbox.address,
      userId: mailbox.userId,
      tenantId: mailbox.tenantId,
      appId: c.appid,
      scopes: typeof c.scp === 'string' ? c.scp.split(' ').filter(Boolean) : [],
      expiresAt: c.exp,
    };
  }
}

/** AAD's `sub` is pairwise: stable for one user and one app (or resource), different across apps */
function pairwiseSubject(userId: string, audience: string): string {
  return createHash('sha256').update(`${userId}|${audience}`).digest('base64url').slice(0, 43);
}
