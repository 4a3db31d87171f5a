import { Global, Module } from '@nestjs/common';
import { IntakeService } from './intake.service';

/** The one path from bytes to an upload, shared by direct uploads (api) and upload sessions (worker). */
@Global()
@Module({ providers: [IntakeService], exports: [IntakeService] })
export class IntakeModule {}
