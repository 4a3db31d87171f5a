import { Global, Module } from '@nestjs/common';
import { Credentials } from './credentials';

/** The credentials every /v1 controller's ApiKeyGuard checks (API keys, the keys file, JWTs). */
@Global()
@Module({
  providers: [Credentials],
  exports: [Credentials],
})
export class AuthModule {}
