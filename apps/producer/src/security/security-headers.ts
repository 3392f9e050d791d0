import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The Content-Security-Policy of everything the producer serves but the OpenAPI UI: the dashboard SPA (its Vite
 * build: one module script and one stylesheet, no inline script) and the API's JSON.
 *
 * - `style-src 'unsafe-inline'`: the mail reader shows a mail in a `srcdoc` frame, and a srcdoc document inherits
 *   its parent's policy; the mail's own `<style>` and `style` attributes need it (the frame adds its own, stricter
 *   policy on top: no script at all, images only as allowed).
 * - `img-src data: blob: http: https:`: for the same reason, the reader's "Show images" must be able to load remote
 *   images inside that frame (it is the frame's own policy and the sanitizer that keep them out until then).
 * - `connect-src 'self'` plus the socket.io WebSocket on the public origin (`ws:` or `wss:`; old browsers do not
 *   count a WebSocket as 'self').
 * - no frame may embed the dashboard (`frame-ancestors 'none'`); the reader's frames are `about:srcdoc`.
 * - `script-src-attr 'none'` and `base-uri 'none'`: no inline event handler and no `<base>` ever apply to the
 *   dashboard. The mail sanitizer parses a hostile mail in a document of its own, {@link MAIL_PARSER_PATH} (an
 *   inert DOMParser document inherits the policy of the window that makes it, and would report the mail's
 *   `onerror=` and `<base>` as violations of this one).
 */
export function dashboardCsp(publicBaseUrl: string): Record<string, string[]> {
  const url = new URL(publicBaseUrl);
  const ws = `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}`;
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'base-uri': ["'none'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:', 'http:', 'https:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'", ws],
    'frame-src': ["'self'"],
    'frame-ancestors': ["'none'"],
    'form-action': ["'self'"],
    'object-src': ["'none'"],
  };
  if (url.protocol === 'https:') directives['upgrade-insecure-requests'] = [];
  return directives;
}

/**
 * The OpenAPI UI (`/api/docs`, swagger-ui) runs an inline initializer and inline styles, and loads its own data:
 * images: a relaxed policy on that route only, still without any other origin.
 */
export function swaggerCsp(): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'", "'unsafe-inline'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'frame-ancestors': ["'none'"],
    'object-src': ["'none'"],
  };
}

/**
 * The empty page (apps/dashboard/public/mail-parser.html) in whose window the dashboard parses and sanitizes mail
 * HTML (a hidden, same-origin frame: DOMPurify and the CSS parser run on its DOMParser documents, which never
 * load, render or run anything). Its policy lets nothing load or run in it (`default-src 'none'`, so no script
 * element or URL) and only the dashboard embed it; it allows inline handlers and styles, and sets no base-uri,
 * only so that parsing a hostile mail there reports nothing: the handlers of a DOMParser document never run.
 */
export const MAIL_PARSER_PATH = '/mail-parser.html';

export function mailParserCsp(): Record<string, string[]> {
  return {
    'default-src': ["'none'"],
    'script-src-attr': ["'unsafe-inline'"],
    'style-src': ["'unsafe-inline'"],
    'frame-ancestors': ["'self'"],
    'form-action': ["'none'"],
  };
}

/** The path of the OpenAPI UI (its assets live below it), whose CSP is {@link swaggerCsp}. */
export const SWAGGER_UI_PATH = '/api/docs';

/**
 * helmet's headers on every response (nosniff, frame-ancestors/X-Frame-Options, Referrer-Policy no-referrer,
 * COOP/CORP, X-DNS-Prefetch-Control...), with the CSPs above and HSTS only when the public URL is https.
 */
export function securityHeaders(publicBaseUrl: string): RequestHandler {
  const https = publicBaseUrl.startsWith('https:');
  const common = {
    strictTransportSecurity: https ? { maxAge: 180 * 24 * 3600 } : false,
    // the dashboard is called from the Vite dev server (another origin) with CORS: CORP only restricts no-cors loads
    crossOriginResourcePolicy: { policy: 'same-origin' as const },
  };
  const app = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: dashboardCsp(publicBaseUrl) },
  });
  const docs = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: swaggerCsp() },
  });
  const mailParser = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: mailParserCsp() },
  });
  return (req, res, next) => {
    const isDocs = req.path === SWAGGER_UI_PATH || req.path.startsWith(`${SWAGGER_UI_PATH}/`);
    (isDocs ? docs : req.path === MAIL_PARSER_PATH ? mailParser : app)(req, res, next);
  };
}
