import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiFoundResponse,
  ApiGoneResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { RateLimiter, type RateLimitRule } from '../auth/rate-limit/rate-limiter';
import { AppError } from '../http/app-error';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { linkErrorCodeOf } from './account-errors';
import { AccountDto, AccountListDto, AuthorizeUrlDto, ResyncAcceptedDto } from './account.dto';
import { CompleteOutlookLinkCommand } from './commands/complete-outlook-link/complete-outlook-link.command';
import { LinkImapAccountCommand } from './commands/link-imap-account/link-imap-account.command';
import {
  ImapAccountLinkedDto,
  linkImapAccountOpenApi,
  linkImapAccountSchema,
  type LinkImapAccountRequest,
} from './commands/link-imap-account/link-imap-account.dto';
import { RequestResyncCommand } from './commands/request-resync/request-resync.command';
import { SetSignatureCommand } from './commands/set-signature/set-signature.command';
import {
  SetSignatureDto,
  SignatureDto,
  setSignatureSchema,
  type SetSignatureRequest,
} from './commands/set-signature/set-signature.dto';
import { StartOutlookLinkCommand } from './commands/start-outlook-link/start-outlook-link.command';
import { UnlinkAccountCommand } from './commands/unlink-account/unlink-account.command';
import { readLinkKey, readOrMintLinkKey, writeLinkCookie } from './link-browser-cookie';
import { LinkUrls } from './link-urls';
import { ListAccountsQuery } from './queries/list-accounts/list-accounts.query';
import {
  ChangesPageDto,
  LIST_CHANGES_QUERY_DOCS,
  listChangesQuerySchema,
  type ListChangesParams,
} from './queries/list-changes/list-changes.dto';
import { ListChangesQuery } from './queries/list-changes/list-changes.query';

const single = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Each authorize parks a state in Redis for ten minutes; a user needs a handful, never hundreds. */
const AUTHORIZE_RULE: RateLimitRule = { limit: 30, windowMs: 10 * 60_000 };

/**
 * Each IMAP link attempt logs in to servers of the user's choosing: without a bound it would be a password-guessing
 * and port-probing service run from our address.
 */
const IMAP_LINK_RULE: RateLimitRule = { limit: 20, windowMs: 10 * 60_000 };

@ApiTags('accounts')
@Controller('accounts')
export class AccountsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly urls: LinkUrls,
    private readonly limiter: RateLimiter,
  ) {}

  /**
   * Answers the sign-in URL as JSON rather than redirecting: the access token travels in a bearer header, which a
   * plain browser navigation cannot carry, so the dashboard calls this with its token and then navigates itself.
   * `?redirect=true` answers 302 to the same URL, for clients that send the bearer header and follow redirects.
   */
  @Get('outlook/authorize')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: "Start linking an Outlook mailbox: the URL of Microsoft's sign-in page" })
  @ApiQuery({ name: 'redirect', required: false, enum: ['true', 'false'] })
  @ApiOkResponse({ type: AuthorizeUrlDto })
  async authorize(
    @CurrentUser() user: AuthUser,
    @Query('redirect') redirect: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { count, retryAfterSeconds } = await this.limiter.consume('link', user.id, AUTHORIZE_RULE);
    if (count > AUTHORIZE_RULE.limit) {
      throw new AppError('RATE_LIMITED', 'rate_limited', 'too many link attempts; try again later', {
        retryAfterSeconds,
      });
    }
    const browserKey = readOrMintLinkKey(req, this.urls.secureCookies);
    const { url } = await this.commands.execute(new StartOutlookLinkCommand(user.id, browserKey));
    writeLinkCookie(res, browserKey, this.urls.secureCookies);
    res.setHeader('Cache-Control', 'no-store');
    if (redirect === 'true') res.redirect(302, url);
    else res.json({ url } satisfies AuthorizeUrlDto);
  }

  /** Where Microsoft sends the browser back; no bearer here: the single-use state names the user. */
  @Get('outlook/callback')
  @ApiOperation({ summary: 'OAuth callback from Microsoft: links the mailbox, then 302 to the dashboard' })
  @ApiFoundResponse({
    description:
      'to `<PUBLIC_BASE_URL>/#/accounts?linked=<accountId>`; when linking failed, to ' +
      '`<PUBLIC_BASE_URL>/#/accounts?linkError=<CODE>` (INVALID_STATE, CONSENT_DENIED, AUTHORIZATION_FAILED, ' +
      'MISSING_CODE, CODE_REJECTED, IDENTITY_PROVIDER_ERROR), where the dashboard explains it',
  })
  async callback(
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    let target: string;
    try {
      const { accountId } = await this.commands.execute(
        new CompleteOutlookLinkCommand({
          state: single(query.state),
          code: single(query.code),
          error: single(query.error),
          browserKey: readLinkKey(req, this.urls.secureCookies),
        }),
      );
      target = this.urls.dashboardLinked(accountId);
    } catch (err) {
      // A browser is on its way back from Microsoft: a failure sends it to the page that explains it.
      const code = linkErrorCodeOf(err);
      if (!code) throw err;
      target = this.urls.dashboardLinkError(code);
    }
    // The URL that brought the browser here held the code: keep it out of caches and Referer headers.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.redirect(302, target);
  }

  @Post('imap')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Link an IMAP/SMTP mailbox: both logins are tried first, then the first sync starts',
    description:
      'Logs in to the IMAP server and authenticates to the SMTP server with the settings given; only when both ' +
      'work is the account stored (its settings sealed) and its first sync requested. 201 for a new account; ' +
      '200 when the user had linked this mailbox (same address) before: its settings are replaced and it goes back ' +
      'to `syncing`. Hosts that are or resolve to loopback, private, link-local or reserved addresses are refused ' +
      '(`HOST_NOT_ALLOWED`; docs/security.md). The passwords never appear in an answer, a log or an event.',
  })
  @ApiBody({ schema: linkImapAccountOpenApi })
  @ApiCreatedResponse({ type: ImapAccountLinkedDto, description: 'linked; the first sync is requested' })
  @ApiOkResponse({ type: ImapAccountLinkedDto, description: 're-linked: settings replaced, syncing again' })
  @ApiBadRequestResponse({
    description:
      'VALIDATION_FAILED: a field missing or malformed (a host with a scheme, port or path; a port outside ' +
      '1-65535; an unknown security mode or field); `details` names each',
  })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token' })
  @ApiUnprocessableEntityResponse({
    description:
      'nothing was stored; `details.server` is `imap` or `smtp`. IMAP_AUTH_FAILED / SMTP_AUTH_FAILED: the ' +
      'server refused the login; IMAP_UNREACHABLE / SMTP_UNREACHABLE: no connection (unknown host, closed port, ' +
      'timeout); IMAP_TLS_FAILED / SMTP_TLS_FAILED: no trusted TLS (wrong security mode for the port, a ' +
      'certificate not valid for the host); HOST_NOT_ALLOWED: the host is or resolves to a loopback, private, ' +
      'link-local or reserved address; INSECURE_CONNECTION: `security: "none"` is not allowed here',
  })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED: more than 20 link attempts in 10 minutes' })
  async linkImap(
    @CurrentUser() user: AuthUser,
    @Body(new ZodValidationPipe(linkImapAccountSchema)) body: LinkImapAccountRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ImapAccountLinkedDto> {
    const { count, retryAfterSeconds } = await this.limiter.consume('imap-link', user.id, IMAP_LINK_RULE);
    if (count > IMAP_LINK_RULE.limit) {
      throw new AppError('RATE_LIMITED', 'rate_limited', 'too many link attempts; try again later', {
        retryAfterSeconds,
      });
    }
    const { accountId, created } = await this.commands.execute(new LinkImapAccountCommand(user.id, body));
    res.status(created ? 201 : 200);
    res.setHeader('Cache-Control', 'no-store');
    return { id: accountId, status: 'syncing' };
  }

  @Get()
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: "The signed-in user's linked accounts" })
  @ApiOkResponse({ type: AccountListDto })
  async list(@CurrentUser() user: AuthUser): Promise<AccountListDto> {
    return {
      items: (await this.queries.execute(new ListAccountsQuery(user.id))).map((a) => AccountDto.from(a)),
    };
  }

  @Get(':id/changes')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: "The account's live changes after a change sequence number: catch-up after a reconnect",
    description:
      'Every `mail.changed` event on the real-time socket carries the seq of its changes. A dashboard keeps the ' +
      'last seq it applied per account and, after a reconnect, asks for what followed it (page with `hasMore`). ' +
      '410 `CHANGES_EXPIRED`: the log no longer reaches back that far; reload the account. See docs/realtime.md.',
  })
  @applyDecorators(...LIST_CHANGES_QUERY_DOCS.map((doc) => ApiQuery(doc)))
  @ApiOkResponse({ type: ChangesPageDto })
  @ApiBadRequestResponse({
    description: 'VALIDATION_FAILED: `since` missing or not a whole number, bad `limit`',
  })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token' })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  @ApiGoneResponse({ description: 'CHANGES_EXPIRED: reload the account instead of catching up' })
  changes(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Query(new ZodValidationPipe(listChangesQuerySchema)) params: ListChangesParams,
  ): Promise<ChangesPageDto> {
    return this.queries.execute(new ListChangesQuery(user.id, id, params.since, params.limit));
  }

  @Delete(':id')
  @UseGuards(JwtAuthGuard)
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Unlink an account and delete everything mirrored from it' })
  @ApiNoContentResponse()
  async unlink(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<void> {
    await this.commands.execute(new UnlinkAccountCommand(user.id, id));
  }

  @Put(':id/signature')
  @UseGuards(JwtAuthGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: "Set the account's signature (an empty one removes it)",
    description:
      'The HTML is sanitized by the server (the allow-list of mail bodies: docs/mail-actions.md#compose) and may be ' +
      'at most 10,000 characters once sanitized. The dashboard puts it under the cursor of new mail, replies and ' +
      'forwards from the account.',
  })
  @ApiBody({ type: SetSignatureDto })
  @ApiOkResponse({ type: SignatureDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED; SIGNATURE_TOO_LONG' })
  @ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token' })
  @ApiNotFoundResponse({ description: "ACCOUNT_NOT_FOUND: unknown, or another user's" })
  setSignature(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body(new ZodValidationPipe(setSignatureSchema)) body: SetSignatureRequest,
  ): Promise<SignatureDto> {
    return this.commands.execute(new SetSignatureCommand(user.id, id, body.html));
  }

  @Post(':id/resync')
  @UseGuards(JwtAuthGuard)
  @HttpCode(202)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Sync the mailbox again (resumes from the stored delta links)' })
  @ApiAcceptedResponse({ type: ResyncAcceptedDto })
  resync(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<ResyncAcceptedDto> {
    return this.commands.execute(new RequestResyncCommand(user.id, id));
  }
}
