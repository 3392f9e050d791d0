import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AppError } from './app-error';
import type { ValidationIssue } from './zod-validation.pipe';

/** `@nestjs/swagger`'s metadata key for `@ApiQuery` and friends (DECORATORS.API_PARAMETERS) */
const API_PARAMETERS = 'swagger/apiParameters';

interface RouteArg {
  index: number;
  data?: unknown;
}

interface RouteInputs {
  /** the handler takes the whole query object (`@Query()`): its pipe or its own code validates every key */
  wholeQuery: boolean;
  /** query keys the handler reads one by one (`@Query('redirect')`) or documents (`@ApiQuery`) */
  queryKeys: Set<string>;
  /** the handler reads a body (`@Body`) and validates it (the webhook's raw bytes are a Buffer, never checked here) */
  takesBody: boolean;
}

function routeInputs(context: ExecutionContext): RouteInputs {
  const handler = context.getHandler();
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as Record<
    string,
    RouteArg
  >;
  const inputs: RouteInputs = { wholeQuery: false, queryKeys: new Set(), takesBody: false };
  for (const [key, arg] of Object.entries(args)) {
    const type = Number(key.split(':')[0]) as RouteParamtypes;
    if (type === RouteParamtypes.QUERY) {
      if (typeof arg.data === 'string') inputs.queryKeys.add(arg.data);
      else inputs.wholeQuery = true;
    }
    if (type === RouteParamtypes.BODY || type === RouteParamtypes.RAW_BODY) inputs.takesBody = true;
  }
  const documented = (Reflect.getMetadata(API_PARAMETERS, handler) ?? []) as Array<{
    in?: string;
    name?: string;
  }>;
  for (const p of documented) if (p.in === 'query' && p.name) inputs.queryKeys.add(p.name);
  return inputs;
}

function refuse(issues: ValidationIssue[]): never {
  throw new AppError(
    'VALIDATION_FAILED',
    'invalid',
    issues.map((i) => `${i.path}: ${i.message}`).join('; '),
    { details: issues },
  );
}

/**
 * Unknown inputs are refused, not ignored, on every route (registered globally in main.ts):
 * - a query parameter the route neither reads nor documents → 400 `VALIDATION_FAILED` naming it (routes that take
 *   the whole query object validate it themselves: strict zod schemas, the OAuth callback, the Graph webhook);
 * - a JSON body with fields on a route that takes no body → 400 naming them (routes with `@Body` validate theirs
 *   with strict zod schemas).
 */
export class StrictInputsGuard implements CanActivate {
  private readonly cache = new WeakMap<object, RouteInputs>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const handler = context.getHandler();
    let inputs = this.cache.get(handler);
    if (!inputs) {
      inputs = routeInputs(context);
      this.cache.set(handler, inputs);
    }
    const req = context.switchToHttp().getRequest<Request>();
    const issues: ValidationIssue[] = [];
    if (!inputs.wholeQuery) {
      for (const key of Object.keys(req.query ?? {})) {
        if (!inputs.queryKeys.has(key)) {
          issues.push({ path: key, code: 'unrecognized_keys', message: 'unknown query parameter' });
        }
      }
    }
    const body: unknown = req.body;
    if (!inputs.takesBody && body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
      for (const key of Array.isArray(body) ? ['(array)'] : Object.keys(body)) {
        issues.push({ path: key, code: 'unrecognized_keys', message: 'this route takes no body' });
      }
    }
    if (issues.length > 0) refuse(issues);
    return true;
  }
}
