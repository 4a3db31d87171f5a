import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { SchemaRegistry } from '../ingest/schema-registry';

/** The item schemas, loaded and compiled once at start (by the preflight when there is one). */
@Global()
@Module({})
export class SchemasModule {
  static forRoot(config: AppConfig, loaded?: SchemaRegistry): DynamicModule {
    return {
      module: SchemasModule,
      providers: [{ provide: SchemaRegistry, useFactory: () => loaded ?? SchemaRegistry.load(config.schemasDir) }],
      exports: [SchemaRegistry],
    };
  }
}
