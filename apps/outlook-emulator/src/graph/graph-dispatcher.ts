import { Injectable } from '@nestjs/common';
import { AccessTokenInvalid, AccessTokenVerifier } from '../identity/access-claims';
import { FaultsService } from '../faults/faults.service';
import { StatsService } from '../faults/stats.service';
import { MailboxStore } from '../store/mailbox-store';
import { GraphError, graphErrorBody, newRequestId, tooManyRequests } from './graph-error';
import type { GraphRequest, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';
import { Throttle } from './throttle';

const MAIL_READ = ['mail.readbasic', 'mail.read', 'mail.readwrite'];

/**
 * Runs one Graph request the way Microsoft's front end does: authenticate the bearer token, find the route,
 * check the delegated scope and the user, admit it against the mailbox's throttling limits, inject any
 * configured fault, then call the handler and shape errors as Graph does.
 */
@Injectable()
export class GraphDispatcher {
  constructor(
    private readonly router: GraphRouter,
    private readonly verifier: AccessTokenVerifier,
    private readonly store: MailboxStore,
    private readonly faults: FaultsService,
    private readonly stats: StatsService,
    private readonly throttle: Throttle,
  ) {}

  async execute(req: GraphRequest, origin: string): Promise<GraphResponse> {
    const requestId = newRequestId();
    const clientRequestId = req.headers['client-request-id'];
    const baseHeaders: Record<string, string> = {
      'request-id': requestId,
      'client-request-id': clientRequestId ?? requestId,
    };
    let address: string | undefined;
    let admitted = false;
    const requestKey = `${req.method} ${req.path}?${req.query.toString()}`;
    try {
      const claims = this.authenticate(req.headers.authorization);
      address = claims.address;
      this.stats.arrived(address, requestKey);
      const mailbox = this.store.findByAddress(claims.address);
      if (!mailbox) {
        throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${claims.address}' is invalid.`);
      }
      const match = this.router.match(req.method, req.path);
      if (match === undefined) {
        throw new GraphError(
          400,
          'BadRequest',
          `Resource not found for the segment '${firstSegment(req.path)}'.`,
        );
      }
      if (match === 'method-not-allowed') {
        throw new GraphError(
          405,
          'Request_BadRequest',
          'Specified HTTP method is not allowed for the request target.',
        );
      }
      if (match.user !== undefined) {
        const target = this.store.findUser(match.user);
        if (!target)
          throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${match.user}' is invalid.`);
        if (target !== mailbox) {
          throw new GraphError(
            403,
            'ErrorAccessDenied',
            'Access is denied. Check credentials and try again.',
          );
        }
      }
      const needed = match.route.options.scopes ?? MAIL_READ;
      const granted = new Set(claims.scopes.map((s) => s.toLowerCase()));
      if (needed.length && !needed.some((s) => granted.has(s.toLowerCase()))) {
        throw new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
      }
      if (match.route.options.subscriptionService) {
        this.throttle.admitSubscriptionRequest(claims.appId, claims.tenantId, req.method !== 'GET');
      }
      const release = match.route.options.throttled
        ? this.throttle.admit(claims.appId, mailbox.address)
        : () => {};
      admitted = true;
      const end = this.stats.begin(mailbox.address);
      try {
        await this.injectFaults();
        const res = await match.route.handler({
          req,
          claims,
          mailbox,
          origin,
          userPrefix: match.userPrefix,
          params: match.params,
        });
        this.stats.status(mailbox.address, res.status);
        return { ...res, headers: { ...baseHeaders, ...contentType(res.body), ...res.headers } };
      } finally {
        end();
        release();
      }
    } catch (err) {
      const e =
        err instanceof GraphError
          ? err
          : err instanceof AccessTokenInvalid
            ? new GraphError(401, 'InvalidAuthenticationToken', err.message)
            : new GraphError(500, 'InternalServerError', 'An internal server error occurred.');
      if (!(err instanceof GraphError) && !(err instanceof AccessTokenInvalid)) {
        process.stderr.write(
          `graph handler failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
      }
      if (address) {
        if (!admitted) this.stats.rejected(address);
        this.stats.status(address, e.status);
        const retryAfter = e.headers['Retry-After'];
        if (retryAfter !== undefined) this.stats.retryAfter(address, requestKey, Number(retryAfter));
      }
      return {
        status: e.status,
        headers: { ...baseHeaders, 'Content-Type': GRAPH_JSON, ...e.headers },
        body: graphErrorBody(e, requestId, clientRequestId),
      };
    }
  }

  private authenticate(authorization: string | undefined): ReturnType<AccessTokenVerifier['verify']> {
    const m = /^Bearer\s+(.*)$/i.exec(authorization ?? '');
    return this.verifier.verify(m?.[1]?.trim() || undefined);
  }

  private async injectFaults(): Promise<void> {
    const f = this.faults.settings;
    if (f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs));
    let status: number | undefined;
    let retryAfterSeconds = f.randomErrors.retryAfterSeconds;
    if (f.failNext.count > 0) {
      f.failNext.count--;
      status = f.failNext.status;
      retryAfterSeconds = f.failNext.retryAfterSeconds;
    } else if (
      f.randomErrors.rate > 0 &&
      Math.random() < f.randomErrors.rate &&
      f.randomErrors.statuses.length
    ) {
      status = f.randomErrors.statuses[Math.floor(Math.random() * f.randomErrors.statuses.length)];
    }
    if (status !== undefined) {
      const retry = { 'Retry-After': String(retryAfterSeconds) };
      if (status === 429) {
        throw tooManyRequests(retryAfterSeconds);
      }
      if (status === 504) throw new GraphError(504, 'UnknownError', 'Gateway Timeout', retry);
      throw new GraphError(status, 'ServiceUnavailable', 'Service Unavailable', retry);
    }
  }
}

/** Graph's JSON media type, on every JSON answer (also inside $batch, where the SDK reads it per response) */
export const GRAPH_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function contentType(body: unknown): Record<string, string> {
  if (body === undefined || Buffer.isBuffer(body)) return {};
  return { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : GRAPH_JSON };
}

function firstSegment(path: string): string {
  return path.split('/').filter(Boolean)[0] ?? '';
}
