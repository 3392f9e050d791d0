import { Injectable, type OnModuleInit } from '@nestjs/common';
import { GraphDispatcher } from './graph-dispatcher';
import { GraphError, graphErrorBody, newRequestId } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';

export const MAX_BATCH_REQUESTS = 20;
/** Graph sends at most 4 requests of a batch to Outlook at a time */
const BATCH_PARALLELISM = 4;

interface BatchStep {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

/**
 * `POST /$batch`: up to 20 requests, each run through the same dispatcher as a direct call (so each is
 * authenticated and throttled on its own and can get its own 429), at most 4 at a time, `dependsOn`
 * respected, and a request whose dependency failed answered 424.
 */
@Injectable()
export class BatchRoutes implements OnModuleInit {
  constructor(
    private readonly router: GraphRouter,
    private readonly dispatcher: GraphDispatcher,
  ) {}

  onModuleInit(): void {
    this.router.add('POST', '$batch', (ctx) => this.batch(ctx), { scopes: [], throttled: false });
  }

  private parse(body: unknown): BatchStep[] {
    const requests = (body as { requests?: unknown } | null)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) {
      throw new GraphError(
        400,
        'BadRequest',
        'Invalid batch payload format: a non-empty requests array is required.',
      );
    }
    if (requests.length > MAX_BATCH_REQUESTS) {
      throw new GraphError(
        400,
        'BadRequest',
        `The number of batch requests cannot exceed ${MAX_BATCH_REQUESTS}.`,
      );
    }
    const ids = new Set<string>();
    const steps = requests.map((raw: unknown) => {
      const r = raw as Record<string, unknown> | null;
      if (!r || typeof r.id !== 'string' || typeof r.method !== 'string' || typeof r.url !== 'string') {
        throw new GraphError(400, 'BadRequest', 'Every batch request needs an id, a method and a url.');
      }
      if (ids.has(r.id)) throw new GraphError(400, 'BadRequest', `Batch request id '${r.id}' is not unique.`);
      ids.add(r.id);
      const headers: Record<string, string> = {};
      if (r.headers && typeof r.headers === 'object') {
        for (const [k, v] of Object.entries(r.headers as Record<string, unknown>))
          headers[k.toLowerCase()] = String(v);
      }
      if (r.body !== undefined && !headers['content-type']) {
        throw new GraphError(
          400,
          'BadRequest',
          `Batch request '${r.id}' has a body but no Content-Type header.`,
        );
      }
      const dependsOn = Array.isArray(r.dependsOn) ? r.dependsOn.map(String) : [];
      return { id: r.id, method: r.method.toUpperCase(), url: r.url, headers, body: r.body, dependsOn };
    });
    for (const s of steps) {
      for (const d of s.dependsOn) {
        if (!ids.has(d))
          throw new GraphError(400, 'BadRequest', `Batch request '${s.id}' depends on unknown '${d}'.`);
      }
    }
    return steps;
  }

  private async batch(ctx: GraphContext): Promise<GraphResponse> {
    const steps = this.parse(ctx.req.body);
    const results = new Map<
      string,
      { id: string; status: number; headers: Record<string, string>; body?: unknown }
    >();
    const pending = new Map<string, Promise<void>>();
    let running = 0;
    const waiters: (() => void)[] = [];
    const slot = async () => {
      while (running >= BATCH_PARALLELISM) await new Promise<void>((r) => waiters.push(r));
      running++;
    };
    const free = () => {
      running--;
      waiters.shift()?.();
    };
    const run = async (step: BatchStep): Promise<void> => {
      for (const d of step.dependsOn) await pending.get(d);
      const failed = step.dependsOn.find((d) => (results.get(d)?.status ?? 500) >= 400);
      if (failed !== undefined) {
        const err = new GraphError(424, 'FailedDependency', `Dependent request '${failed}' failed.`);
        results.set(step.id, {
          id: step.id,
          status: 424,
          headers: {},
          body: graphErrorBody(err, newRequestId(), undefined),
        });
        return;
      }
      await slot();
      try {
        // relative to the version (`/me`); the JS SDK's BatchRequestContent sends `/v1.0/me` from absolute
        // Request URLs, which is tolerated the same way
        const url = new URL(
          step.url.replace(/^\/?/, '/').replace(/^\/v1\.0\//i, '/'),
          'https://batch.invalid',
        );
        if (url.pathname.replace(/^\//, '').toLowerCase() === '$batch') {
          throw new GraphError(400, 'BadRequest', 'A batch cannot contain another batch.');
        }
        const res = await this.dispatcher.execute(
          {
            method: step.method,
            path: url.pathname.replace(/^\//, ''),
            query: url.searchParams,
            headers: { ...step.headers, authorization: ctx.req.headers.authorization ?? '' },
            body: step.body,
          },
          ctx.origin,
        );
        // raw bytes (an attachment's $value) travel base64-encoded inside the batch's JSON, as on Graph
        const body = Buffer.isBuffer(res.body) ? res.body.toString('base64') : res.body;
        results.set(step.id, { id: step.id, status: res.status, headers: res.headers ?? {}, body });
      } catch (err) {
        const e =
          err instanceof GraphError ? err : new GraphError(500, 'InternalServerError', 'Batch step failed.');
        results.set(step.id, {
          id: step.id,
          status: e.status,
          headers: e.headers,
          body: graphErrorBody(e, newRequestId(), undefined),
        });
      } finally {
        free();
      }
    };
    for (const step of steps) pending.set(step.id, run(step));
    await Promise.all(pending.values());
    return { status: 200, body: { responses: steps.map((s) => results.get(s.id)) } };
  }
}
