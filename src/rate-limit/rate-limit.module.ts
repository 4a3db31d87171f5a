import { Global, Module } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerModule } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';
import { PlanThrottlerGuard, planLimit } from './plan-throttler.guard';

@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [REDIS],
      useFactory: (redis: Redis) => ({
        throttlers: [{ name: 'default', ttl: 60_000, limit: planLimit }],
        storage: new ThrottlerStorageRedisService(redis),
      }),
    }),
  ],
  providers: [PlanThrottlerGuard],
  exports: [PlanThrottlerGuard, ThrottlerModule],
})
export class RateLimitModule {}
