import { Injectable, type OnModuleInit } from '@nestjs/common';
import { GraphRouter, type GraphContext, type GraphResponse, type RouteOptions } from '../graph/graph-router';
import { parsePrefer } from '../graph/odata';
import { CreateSubscriptionHandler } from './commands/create-subscription.handler';
import { DeleteSubscriptionHandler } from './commands/delete-subscription.handler';
import { ReauthorizeSubscriptionHandler } from './commands/reauthorize-subscription.handler';
import { RenewSubscriptionHandler } from './commands/renew-subscription.handler';
import { toGraphSubscription, type Caller, type Subscription } from './domain/subscription';
import { ListSubscriptionsQueryHandler } from './queries/list-subscriptions.query-handler';

/**
 * Mail subscriptions need one of the mail read scopes. They are served by Graph's subscription service rather
 * than by Outlook, so they do not count against the mailbox's Outlook throttling (a handshake can take 10 s) but
 * against the subscription service's limits per app and tenant (1,000 writes, 5,000 requests per 20 s).
 */
const ROUTE_OPTIONS: RouteOptions = {
  scopes: ['Mail.ReadBasic', 'Mail.Read', 'Mail.ReadWrite'],
  throttled: false,
  subscriptionService: true,
};

const callerOf = (ctx: GraphContext): Caller => ({
  mailbox: ctx.mailbox,
  appId: ctx.claims.appId,
  userId: ctx.claims.userId,
  tenantId: ctx.claims.tenantId,
});

const entity = (ctx: GraphContext, status: number, sub: Subscription): GraphResponse => ({
  status,
  body: {
    '@odata.context': `${ctx.origin}/v1.0/$metadata#subscriptions/$entity`,
    ...toGraphSubscription(sub),
  },
});

/** the Graph transport for subscriptions: one registration per route, from request to use case to Graph's shape */
@Injectable()
export class SubscriptionsGraphRoutes implements OnModuleInit {
  constructor(
    private readonly router: GraphRouter,
    private readonly create: CreateSubscriptionHandler,
    private readonly renew: RenewSubscriptionHandler,
    private readonly reauthorize: ReauthorizeSubscriptionHandler,
    private readonly remove: DeleteSubscriptionHandler,
    private readonly query: ListSubscriptionsQueryHandler,
  ) {}

  onModuleInit(): void {
    const r = this.router;
    r.add(
      'POST',
      'subscriptions',
      async (ctx) =>
        entity(
          ctx,
          201,
          await this.create.execute(callerOf(ctx), ctx.req.body, {
            // as on Graph: the preference given at creation decides the ids of every notification it sends
            immutableIds: parsePrefer(ctx.req.headers.prefer).immutableIds,
          }),
        ),
      ROUTE_OPTIONS,
    );
    r.add(
      'GET',
      'subscriptions',
      (ctx) => ({
        status: 200,
        body: {
          '@odata.context': `${ctx.origin}/v1.0/$metadata#subscriptions`,
          value: this.query.listOwned(callerOf(ctx)).map(toGraphSubscription),
        },
      }),
      ROUTE_OPTIONS,
    );
    r.add(
      'GET',
      'subscriptions/:id',
      (ctx) => entity(ctx, 200, this.query.getOwned(callerOf(ctx), ctx.params.id)),
      ROUTE_OPTIONS,
    );
    r.add(
      'PATCH',
      'subscriptions/:id',
      (ctx) => entity(ctx, 200, this.renew.execute(callerOf(ctx), ctx.params.id, ctx.req.body)),
      ROUTE_OPTIONS,
    );
    r.add(
      'DELETE',
      'subscriptions/:id',
      (ctx) => {
        this.remove.execute(callerOf(ctx), ctx.params.id);
        return { status: 204 };
      },
      ROUTE_OPTIONS,
    );
    r.add(
      'POST',
      'subscriptions/:id/reauthorize',
      (ctx) => {
        this.reauthorize.execute(callerOf(ctx), ctx.params.id);
        return { status: 204 };
      },
      ROUTE_OPTIONS,
    );
  }
}
