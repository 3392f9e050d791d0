import { type DynamicModule, Module } from '@nestjs/common';
import type { EmulatorConfig } from '@email-core/config';
import { AdminModule } from './admin/admin.module';
import { CoreModule } from './core.module';
import { EmulatorHealthController } from './emulator-health.controller';
import { GraphModule } from './graph/graph.module';
import { IdentityModule } from './identity/identity.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';

@Module({ controllers: [EmulatorHealthController] })
export class AppModule {
  static forRoot(config: EmulatorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(config), IdentityModule, GraphModule, SubscriptionsModule, AdminModule],
    };
  }
}
