import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppRegistry, type ClientApp } from './app-registry.service';
import { field, type FormFields } from './form-params';
import { IdentityError } from './identity-errors';

export interface ClientCredentials {
  app: ClientApp;
  /** whether a client secret was presented (and, being presented, it was right) */
  secretPresented: boolean;
}

/**
 * Who is calling /token: `client_id` and `client_secret` in the body, or HTTP Basic (RFC 6749 §2.3.1:
 * form-urlencoded id and secret). A secret presented must be right; whether one is required depends on the
 * grant, so `requireSecret` is a separate step.
 */
@Injectable()
export class ClientAuthService {
  constructor(private readonly apps: AppRegistry) {}

  identify(form: FormFields, authorization: string | undefined, tenant: string): ClientCredentials {
    const basic = parseBasic(authorization);
    const bodyId = field(form, 'client_id');
    if (basic && bodyId !== undefined && bodyId !== basic.clientId) {
      throw new IdentityError('clientIdMismatch', { clientId: bodyId });
    }
    const clientId = basic?.clientId ?? bodyId;
    if (clientId === undefined) throw new IdentityError('missingParameter', { name: 'client_id' });
    const app = this.apps.get(clientId);
    if (!app) throw new IdentityError('unknownClient', { clientId, tenant });
    const bodySecret = field(form, 'client_secret');
    const secrets = basic?.clientSecrets ?? (bodySecret !== undefined ? [bodySecret] : []);
    if (!secrets.length) return { app, secretPresented: false };
    const expected = app.clientSecret;
    if (expected === undefined) throw new IdentityError('publicClientWithSecret');
    if (!secrets.some((s) => sameSecret(expected, s)))
      throw new IdentityError('invalidClientSecret', { clientId });
    return { app, secretPresented: true };
  }

  /** a confidential client must authenticate unless the grant came from a public-client flow */
  requireSecret(client: ClientCredentials): void {
    if (client.app.clientSecret !== undefined && !client.secretPresented) {
      throw new IdentityError('missingClientSecret');
    }
  }
}

interface BasicCredentials {
  clientId: string;
  /** the secret form-decoded, and as sent: many clients don't form-encode it */
  clientSecrets: string[];
}

function parseBasic(authorization: string | undefined): BasicCredentials | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const rawSecret = decoded.slice(colon + 1);
  return { clientId: formDecode(decoded.slice(0, colon)), clientSecrets: [formDecode(rawSecret), rawSecret] };
}

/** form-urlencoded as RFC 6749 asks; a value that doesn't decode stands as it is */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

function sameSecret(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
