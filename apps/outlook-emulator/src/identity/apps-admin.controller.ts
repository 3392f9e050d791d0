import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Post,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import { AdminApiGuard } from '../http/admin-api.guard';
import { AppRegistry, AppRegistryError, type ClientAppView } from './app-registry.service';

function absoluteUri(value: string): boolean {
  try {
    const url = new URL(value);
    return url.hash === '';
  } catch {
    return false;
  }
}

const registerAppBody = z
  .object({
    clientId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9._~:-]+$/, 'letters, digits and . _ ~ : - only'),
    /** absent for a public client (SPA, desktop, command line), which then must not present one */
    clientSecret: z.string().min(1).max(500).optional(),
    redirectUris: z
      .array(z.string().refine(absoluteUri, 'must be an absolute URI without a fragment'))
      .min(1)
      .max(256),
  })
  .strict();

/** `/_emulator/apps`: register client apps besides the demo app from configuration (loopback only) */
@Controller('_emulator/apps')
@UseGuards(AdminApiGuard)
export class AppsAdminController {
  constructor(private readonly apps: AppRegistry) {}

  @Post()
  @HttpCode(201)
  register(@Body() body: unknown): ClientAppView {
    const parsed = registerAppBody.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      throw new BadRequestException({
        error: 'invalid_request',
        message: `${where}${issue?.message ?? 'invalid body'}`,
      });
    }
    try {
      return this.apps.view(this.apps.register(parsed.data));
    } catch (err) {
      if (err instanceof AppRegistryError)
        throw new ConflictException({ error: 'conflict', message: err.message });
      throw err;
    }
  }

  @Get()
  list(): { apps: ClientAppView[] } {
    return { apps: this.apps.list().map((app) => this.apps.view(app)) };
  }
}
