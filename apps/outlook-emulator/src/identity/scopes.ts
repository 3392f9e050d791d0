import { IdentityError } from './identity-errors';

/** Microsoft Graph: its resource URI and its well-known application id, both usable as a scope prefix */
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** OpenID Connect scopes, in the order a response lists them */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
export type OidcScope = (typeof OIDC_SCOPES)[number];

/** the delegated Graph permissions the emulator knows, in Microsoft's spelling (scopes are case-insensitive) */
const GRAPH_SCOPES = [
  'User.Read',
  'User.ReadBasic.All',
  'User.Read.All',
  'Mail.ReadBasic',
  'Mail.Read',
  'Mail.ReadWrite',
  'Mail.Send',
  'Mail.ReadBasic.Shared',
  'Mail.Read.Shared',
  'Mail.ReadWrite.Shared',
  'Mail.Send.Shared',
  'MailboxSettings.Read',
  'MailboxSettings.ReadWrite',
] as const;
const GRAPH_BY_LOWER = new Map<string, string>(GRAPH_SCOPES.map((s) => [s.toLowerCase(), s]));

/**
 * What `/.default` grants: "every permission configured on the app registration". The emulator's registrations
 * carry no permission list, so it stands for what a mail-sync app registers.
 */
const DEFAULT_GRANT = ['User.Read', 'Mail.ReadWrite', 'Mail.Send'];

/** with only OIDC scopes requested, AAD still issues a Graph token (for userinfo): User.Read */
const OIDC_ONLY_GRANT = ['User.Read'];

export interface ScopeSet {
  /** Graph permissions, short canonical names (`Mail.Read`), no duplicates */
  graph: string[];
  /** OIDC scopes asked for, in canonical order */
  oidc: OidcScope[];
}

/**
 * Parses a space-separated `scope` parameter: Graph scopes short (`Mail.Read`) or qualified
 * (`https://graph.microsoft.com/Mail.Read`, `00000003-.../Mail.Read`), any case, plus OIDC scopes.
 * An unknown scope or another resource's scope answers AADSTS70011 naming it.
 */
export function parseScopes(raw: string): ScopeSet {
  const graph: string[] = [];
  const oidc = new Set<OidcScope>();
  for (const token of raw.split(/\s+/).filter(Boolean)) {
    const lower = token.toLowerCase();
    if ((OIDC_SCOPES as readonly string[]).includes(lower)) {
      oidc.add(lower as OidcScope);
      continue;
    }
    const short = graphShortName(lower);
    if (short === undefined) throw new IdentityError('invalidScope', { scope: token });
    const granted = short === '.default' ? DEFAULT_GRANT : [GRAPH_BY_LOWER.get(short)];
    for (const name of granted) {
      if (name === undefined) throw new IdentityError('invalidScope', { scope: token });
      if (!graph.includes(name)) graph.push(name);
    }
  }
  return { graph, oidc: OIDC_SCOPES.filter((s) => oidc.has(s)) };
}

/** `mail.read` for any accepted spelling of a Graph scope, undefined for another resource */
function graphShortName(lower: string): string | undefined {
  for (const prefix of [`${GRAPH_RESOURCE}/`, `${GRAPH_RESOURCE}//`, `${GRAPH_APP_ID}/`]) {
    if (lower.startsWith(prefix)) return lower.slice(prefix.length);
  }
  return lower.includes('/') || lower.includes(':') ? undefined : lower;
}

/** the Graph permissions a token carries: the ones asked for, else User.Read as AAD does for OIDC-only requests */
export function grantedGraphScopes(set: ScopeSet): string[] {
  return set.graph.length ? set.graph : [...OIDC_ONLY_GRANT];
}

/** the response's `scope`: Graph short names, then the OIDC scopes asked for */
export function formatScope(graph: readonly string[], oidc: readonly OidcScope[]): string {
  return [...graph, ...oidc].join(' ');
}

/** the first scope of `requested` outside `granted` (case-insensitive), if any */
export function firstScopeOutside(
  requested: readonly string[],
  granted: readonly string[],
): string | undefined {
  const allowed = new Set(granted.map((s) => s.toLowerCase()));
  return requested.find((s) => !allowed.has(s.toLowerCase()));
}
