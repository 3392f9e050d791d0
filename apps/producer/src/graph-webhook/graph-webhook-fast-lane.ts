import type { ArgumentsHost } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiExceptionFilter } from '../http/api-exception.filter';
import { GraphWebhookController } from './graph-webhook.controller';
import { GRAPH_WEBHOOK_ROUTES } from './graph-webhook-body';

export interface GraphWebhookFastLaneOptions {
  /**
   * The middlewares main.ts mounts in front of everything (the draining flag, the security headers), then on
   * the webhook routes (the per-IP rate limit, the body reader), then CORS ({@link mountedCors}): the same
   * instances, in the same order.
   */
  middlewares: RequestHandler[];
}

type Endpoint = 'notifications' | 'lifecycle';

/**
 * The Graph webhook's hot route without Express's router and Nest's request pipeline (issue 20: under load the
 * producer spent most of its CPU walking Express's ~20 layers and Nest's guard and filter plumbing for a route
 * that uses none of them).
 *
 * It takes a request only when it is exactly `POST /api/v1/graph/notifications` or `/graph/lifecycle` with no
 * query string (the validation handshake and anything unusual go the ordinary way). Such a request gets what the
 * ordinary path gives it, in the same order, with the same code: Express's request/response prototypes (`req.ip`
 * with TRUST_PROXY, `res.status().json()`), the same middleware instances main.ts mounts for it (draining,
 * security headers, the per-IP rate limit in Redis, the bounded body reader, CORS), then the controller's own
 * method (parse, every item's subscription and clientState checked, Kafka acks all, 202), and on an error the
 * API's exception filter. What it leaves out does nothing for such a request: the cookie parser (no cookie is
 * read), the JSON/form parsers and the oversized-body guard (the webhook has read its body), the NUL check (the
 * URL is fixed; the body is raw bytes its use case checks), the strict-inputs guard (no query, no parsed body).
 * Every other request goes through Express and Nest as before (test/e2e/graph-webhook.e2e-spec.ts compares the
 * two paths' answers).
 */
export function installGraphWebhookFastLane(
  app: NestExpressApplication,
  { middlewares }: GraphWebhookFastLaneOptions,
): void {
  const express = app.getHttpAdapter().getInstance();
  const server = app.getHttpServer();
  const controller = app.get(GraphWebhookController, { strict: false });
  const filter = new ApiExceptionFilter();
  const endpoints = new Map<string, Endpoint>(
    GRAPH_WEBHOOK_ROUTES.map((route) => [`/api/v1/${route}`, route.split('/')[1] as Endpoint]),
  );

  const fail = (req: Request, res: Response, err: unknown): void => {
    const host = {
      getType: () => 'http',
      switchToHttp: () => ({ getRequest: () => req, getResponse: () => res, getNext: () => undefined }),
    } as unknown as ArgumentsHost;
    try {
      filter.catch(err, host);
    } catch {
      if (!res.headersSent) res.status(500).end();
    }
  };

  const serve = (req: Request, res: Response, endpoint: Endpoint): void => {
    let i = 0;
    const next: NextFunction = (err?: unknown) => {
      if (err !== undefined && err !== null && err !== 'route' && err !== 'router')
        return fail(req, res, err);
      const mw = middlewares[i++];
      if (mw) {
        try {
          mw(req, res, next);
        } catch (e) {
          fail(req, res, e);
        }
        return;
      }
      const handled =
        endpoint === 'notifications'
          ? controller.notifications({}, req, res)
          : controller.lifecycle({}, req, res);
      handled.catch((e: unknown) => fail(req, res, e));
    };
    next();
  };

  // Whatever listens for requests now (Express, wrapped by socket.io's engine) keeps every other request.
  const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const endpoint = req.method === 'POST' ? endpoints.get(req.url ?? '') : undefined;
    if (endpoint === undefined) {
      for (const listener of listeners) listener.call(server, req, res);
      return;
    }
    // as express's app.handle does for every request
    const ereq = req as Request;
    const eres = res as Response;
    ereq.res = eres;
    eres.req = ereq;
    Object.setPrototypeOf(req, express.request);
    Object.setPrototypeOf(res, express.response);
    eres.locals = Object.create(null) as Response['locals'];
    ereq.originalUrl = req.url ?? '';
    ereq.baseUrl = '';
    serve(ereq, eres, endpoint);
  });
}

/**
 * The CORS middleware `app.enableCors` mounted (the `cors` package's `corsMiddleware`, which Nest creates), from
 * Express's stack, so the fast lane runs the very same one. Throws when there is none.
 */
export function mountedCors(app: NestExpressApplication): RequestHandler {
  const router = (app.getHttpAdapter().getInstance() as { router?: { stack?: unknown[] } }).router;
  const layer = (router?.stack as Array<{ name?: string; handle: RequestHandler }> | undefined)?.find(
    (l) => l.name === 'corsMiddleware',
  );
  if (!layer) throw new Error('no CORS middleware mounted (app.enableCors) for the webhook fast lane to run');
  return layer.handle;
}
