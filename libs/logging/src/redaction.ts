/**
 * What never reaches a log line: every secret the product handles, wherever a log call could carry it.
 *
 * - Request and response headers: `Authorization` (API bearer tokens, Graph access tokens, METRICS_TOKEN),
 *   `Cookie` (the refresh and link cookies), `Set-Cookie`, `Proxy-Authorization`.
 * - Object fields (a log call's merge object, to two levels, and the same under `req`/`res`): passwords (sign-up,
 *   sign-in, IMAP/SMTP on link, nodemailer's `pass`), tokens (access, refresh, id, JWT), client secrets, Graph's
 *   `clientState`, sign-in and verification codes.
 * - URLs (the request line, `Referer`, `Location`): the value of every query parameter whose name says secret
 *   (`code`, `state`, `*token*`, `*secret*`, `*password*`, `clientState`, `key`, `sig`) becomes `[Redacted]`;
 *   the path and the other parameters stay.
 *
 * Request and response bodies are never logged at all.
 */
export const REDACTED = '[Redacted]';

/** header names whose values are secrets (lower case, as Node gives them) */
export const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'];

/**
 * Field names whose values are secrets, wherever an object logged carries them. (Not a bare `code`: errors carry
 * theirs there, `ECONNREFUSED` or `IMAP_AUTH_FAILED`, and it is what an operator reads first; a sign-in code only
 * ever travels in a request body, which is never logged, and appears here under the names below.)
 */
export const SECRET_FIELDS = [
  'password',
  'newPassword',
  'currentPassword',
  'pass',
  'passwd',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'jwt',
  'secret',
  'clientSecret',
  'client_secret',
  'clientState',
  'signInCode',
  'verificationCode',
  'authorizationCode',
  'authorization',
  'cookie',
  'cookies',
  'set-cookie',
];

/** pino's `redact` paths: the fields above at the top level and one or two levels down, headers in req and res */
export function redactPaths(): string[] {
  const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `["${k}"]`);
  const paths = new Set<string>();
  for (const f of SECRET_FIELDS) {
    const k = key(f);
    paths.add(k.startsWith('.') ? k.slice(1) : k);
    paths.add(`*${k}`);
    paths.add(`*.*${k}`);
  }
  for (const h of SECRET_HEADERS) {
    for (const where of ['req.headers', 'res.headers', 'headers', '*.headers'])
      paths.add(`${where}${key(h)}`);
  }
  return [...paths];
}

const SECRET_QUERY_KEY =
  /^(code|state|session_state|key|sig|signature)$|token|secret|password|passwd|clientstate|assertion/i;

/**
 * A URL (absolute or a path with a query) with the values of its secret query parameters replaced by
 * `[Redacted]`. Anything that does not parse comes back as its path only.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const [base, query] = [url.slice(0, q), url.slice(q + 1)];
  const hash = query.indexOf('#');
  const params = hash < 0 ? query : query.slice(0, hash);
  const out = params
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name: string;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        return `${rawName}=${REDACTED}`;
      }
      return eq >= 0 && SECRET_QUERY_KEY.test(name) ? `${rawName}=${REDACTED}` : pair;
    })
    .join('&');
  // a fragment can carry tokens too (the implicit flow's #access_token=): never kept
  return `${base}?${out}${hash < 0 ? '' : `#${REDACTED}`}`;
}
