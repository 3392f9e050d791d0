import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/**
 * Every route lives under `/api/v1` except the health probes, which load balancers call at the root, and the
 * Prometheus scrape (`/metrics`, where scrapers look by default).
 */
export function applyApiPrefix(app: INestApplication): void {
  app.setGlobalPrefix('api/v1', { exclude: ['health', 'health/live', 'metrics'] });
}

/**
 * The OpenAPI document, served at `/api/docs-json` and the source of the dashboard's typed client
 * (`npm run api:types` writes `apps/dashboard/src/api/schema.d.ts` from it; a unit test fails when they drift).
 */
export function createApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Email Core API')
    .setDescription('Accounts, sign-in and the mirrored mailboxes. Errors are `{error: CODE, message}`.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  return SwaggerModule.createDocument(app, config);
}
