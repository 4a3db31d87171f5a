import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { API_KEY_FILE, type ApiKeyFile, openApiKeyFile } from './api-key-file';
import { Credentials } from './credentials';

/** The credentials every /v1 controller's ApiKeyGuard checks (API keys, the keys file, JWTs). */
@Global()
@Module({})
export class AuthModule {
  /** `keysFile`: API_KEYS_FILE as main.ts read it before Nest started (so a bad file stops it with one line). */
  static forRoot(config: AppConfig, keysFile?: ApiKeyFile | null): DynamicModule {
    return {
      module: AuthModule,
      providers: [{ provide: API_KEY_FILE, useFactory: () => keysFile ?? openApiKeyFile(config) }, Credentials],
      exports: [Credentials],
    };
  }
}
