import type { OidcScope } from './scopes';

/** who signed in, to which app, for what: what a code, a refresh token or an approved device code stands for */
export interface Grant {
  clientId: string;
  address: string;
  userId: string;
  tenantId: string;
  /** Graph permissions granted (short names) */
  scopes: string[];
  /** OIDC scopes asked for */
  oidc: OidcScope[];
  /** epoch ms of the interactive sign-in the grant comes from */
  authTime: number;
  /** from a public-client flow (device code), redeemable without a client secret */
  publicClient: boolean;
}

/** a random opaque token `prefix` + base64url, shaped like AAD's (`0.A...`, `1.A...`) */
export const OPAQUE_TOKEN = /^[01M]\.[A-Za-z][A-Za-z0-9_.-]{40,}$/;
