import { Injectable } from '@nestjs/common';

export interface WebhookRequest {
  url: string;
  contentType: string;
  body: string;
  timeoutMs: number;
  /** aborts the request early (reset, shutdown) */
  signal?: AbortSignal;
}

export interface WebhookResponse {
  /** 0 when there was no answer (refused, reset, timed out) */
  status: number;
  body: string;
  latencyMs: number;
  timedOut: boolean;
  error?: string;
}

/** one POST to a receiver, the way Graph's notification client makes it: no redirects followed, a hard timeout */
@Injectable()
export class WebhookClient {
  async post(req: WebhookRequest): Promise<WebhookResponse> {
    const started = performance.now();
    const timeout = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
    const elapsed = () => performance.now() - started;
    try {
      const res = await fetch(req.url, {
        method: 'POST',
        headers: { 'content-type': req.contentType },
        body: req.body,
        redirect: 'manual',
        signal,
      });
      const body = await res.text();
      return { status: res.status, body, latencyMs: elapsed(), timedOut: false };
    } catch (err) {
      return { status: 0, body: '', latencyMs: elapsed(), timedOut: timeout.aborted, error: describe(err) };
    }
  }
}

/** fetch's own message is only "fetch failed"; the reason (ECONNREFUSED, ...) is in its cause */
function describe(err: unknown): string {
  const e = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const cause = e?.cause ? `: ${String(e.cause.code ?? e.cause.message)}` : '';
  return `${typeof e?.message === 'string' ? e.message : String(err)}${cause}`;
}
