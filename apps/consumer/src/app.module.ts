import { Module, type DynamicModule } from '@nestjs/common';
import type { ConsumerConfig } from '@email-core/config';
import { InfrastructureModule } from '@email-core/health';

@Module({})
export class AppModule {
  static forRoot(config: ConsumerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfrastructureModule.forRoot(config, 'consumer')],
    };
  }
}
