import { Module, type DynamicModule } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import { InfrastructureModule } from '@email-core/health';

@Module({})
export class AppModule {
  static forRoot(config: ProducerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [InfrastructureModule.forRoot(config, 'producer')],
    };
  }
}
