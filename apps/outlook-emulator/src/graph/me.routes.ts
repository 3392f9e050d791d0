import { Injectable, type OnModuleInit } from '@nestjs/common';
import { GraphRouter } from './graph-router';
import { odataContext } from './odata';

/** `GET /me`: the signed-in user's profile */
@Injectable()
export class MeRoutes implements OnModuleInit {
  constructor(private readonly router: GraphRouter) {}

  onModuleInit(): void {
    this.router.add(
      'GET',
      'me',
      (ctx) => {
        const m = ctx.mailbox;
        const [given, ...rest] = m.displayName.split(' ');
        return {
          status: 200,
          body: {
            '@odata.context': odataContext(ctx, 'users/$entity'),
            businessPhones: [],
            displayName: m.displayName,
            givenName: given ?? null,
            jobTitle: null,
            mail: m.address,
            mobilePhone: null,
            officeLocation: null,
            preferredLanguage: 'en-US',
            surname: rest.join(' ') || null,
            userPrincipalName: m.address,
            id: m.userId,
          },
        };
      },
      {
        scopes: [
          'User.Read',
          'User.ReadBasic.All',
          'User.Read.All',
          'Mail.Read',
          'Mail.ReadWrite',
          'Mail.ReadBasic',
        ],
      },
    );
  }
}
