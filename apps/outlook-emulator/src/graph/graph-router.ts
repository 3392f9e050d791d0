import { Injectable } from '@nestjs/common';
import type { AccessClaims } from '../identity/access-claims';
import type { Mailbox } from '../store/model';

/** one Graph request, from HTTP or from inside a $batch */
export interface GraphRequest {
  method: string;
  /** the path after `/v1.0/`, without the query */
  path: string;
  query: URLSearchParams;
  /** lower-case names */
  headers: Record<string, string>;
  body: unknown;
}

export interface GraphResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialisable, a string sent as text/plain, raw bytes (a Buffer, typed by the handler's headers), or undefined for no body */
  body?: unknown;
}

export interface GraphContext {
  req: GraphRequest;
  claims: AccessClaims;
  /** the signed-in user's mailbox (delegated permissions reach only that one) */
  mailbox: Mailbox;
  /** `https://host:port`, as the client addressed the emulator; links are built on it */
  origin: string;
  /** the path prefix the client used for the user: `me` or `users/{id}` */
  userPrefix: string;
  /** route parameters, by name */
  params: Record<string, string>;
}

export type GraphHandler = (ctx: GraphContext) => GraphResponse | Promise<GraphResponse>;

export interface RouteOptions {
  /** when set, the token must carry one of these scopes (short names, case-insensitive) */
  scopes?: string[];
  /** counts against the mailbox's concurrency and budget (true for everything Outlook serves) */
  throttled?: boolean;
  /** served by Graph's subscription service: counts against its limits per app and tenant instead */
  subscriptionService?: boolean;
}

interface Route {
  method: string;
  segments: string[];
  handler: GraphHandler;
  options: RouteOptions;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
  userPrefix: string;
  /** the `{id}` of `users/{id}/...`, when the request used that form */
  user: string | undefined;
}

/**
 * Splits a Graph path into segments: `mailFolders('Inbox')` and `mailFolders/Inbox` are the same path, and
 * segment names are case-insensitive (ids are not).
 */
export function splitGraphPath(path: string): string[] {
  const out: string[] = [];
  for (const raw of path.split('/')) {
    if (!raw) continue;
    const m = /^([^()]+)\('([^']*)'\)$/.exec(raw) ?? /^([^()]+)\(([^)]*)\)$/.exec(raw);
    if (m) {
      out.push(safeDecode(m[1]), safeDecode(m[2]));
    } else {
      out.push(safeDecode(raw));
    }
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The Graph route table. Feature modules register their routes at init; the HTTP controller and `$batch`
 * both dispatch through it, so a batched request takes exactly the path a direct one does.
 */
@Injectable()
export class GraphRouter {
  private readonly routes: Route[] = [];

  /** `pattern` is relative to the user (`me/...` or `users/{id}/...`) when it starts with `me/`; `:name` captures */
  add(method: string, pattern: string, handler: GraphHandler, options: RouteOptions = {}): void {
    this.routes.push({
      method: method.toUpperCase(),
      segments: pattern.split('/').filter(Boolean),
      handler,
      options: { throttled: true, ...options },
    });
  }

  match(method: string, path: string): RouteMatch | 'method-not-allowed' | undefined {
    let segments = splitGraphPath(path);
    let userPrefix = 'me';
    let user: string | undefined;
    if (segments[0]?.toLowerCase() === 'users' && segments.length >= 2) {
      user = segments[1];
      userPrefix = `users/${encodeURIComponent(user)}`;
      segments = ['me', ...segments.slice(2)];
    }
    let pathMatched = false;
    let best: RouteMatch | undefined;
    let bestLiterals = -1;
    for (const route of this.routes) {
      if (route.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const pat = route.segments[i];
        const seg = segments[i];
        if (pat.startsWith(':')) params[pat.slice(1)] = seg;
        else ok = pat.toLowerCase() === seg.toLowerCase();
      }
      if (!ok) continue;
      pathMatched = true;
      // a literal segment beats a parameter: `messages/delta` is not the message with id "delta"
      const literals = route.segments.filter((s) => !s.startsWith(':')).length;
      if (route.method === method.toUpperCase() && literals > bestLiterals) {
        best = { route, params, userPrefix, user };
        bestLiterals = literals;
      }
    }
    return best ?? (pathMatched ? 'method-not-allowed' : undefined);
  }
}
