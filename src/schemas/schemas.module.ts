import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { SchemaRegistry } from '../ingest/schema-registry';

/** The item schemas, loaded and compiled once at start. */
@Global()
@Module({
  providers: [
    { provide: SchemaRegistry, inject: [APP_CONFIG], useFactory: (c: AppConfig) => SchemaRegistry.load(c.schemasDir) },
  ],
  exports: [SchemaRegistry],
})
export class SchemasModule {}
