import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import multer, { MulterError } from 'multer';
import type { Observable } from 'rxjs';
import { authOf } from '../auth/auth-context';
import { BODY_IDLE } from '../http/body-idle-timeout';
import { AppError } from '../errors/app-error';
import { fileRequired, tooManyFiles } from '../errors/errors';
import { filesPerRequest } from '../plans/plans';
import { FILE_STORAGE, type FileStorage } from '../storage/file-storage';
import { CLIENT_ABORTED, SpoolStorageEngine } from './spool-storage.engine';

/** The form fields a file part may come in (API.md, "Several files"). */
export const FILE_FIELDS: readonly string[] = ['file', 'files', 'file[]'];

/** Small limits: besides the files, an upload has at most a few short text fields. */
const FIELD_LIMITS = { fields: 10, fieldSize: 1024, fieldNameSize: 100, headerPairs: 20 };

function toAppError(e: unknown, sawFile: boolean, maxFiles: number): Error {
  if (e instanceof AppError) return e;
  if (e instanceof MulterError) {
    switch (e.code) {
      case 'LIMIT_UNEXPECTED_FILE':
        if (e.field && !sawFile) return fileRequired({ unexpectedField: e.field });
        return new AppError('validation_error', 'File parts go in the form field "file" (or "files", "file[]").', {
          ...(e.field && { unexpectedField: e.field }),
        });
      case 'LIMIT_FILE_COUNT':
        return tooManyFiles(maxFiles);
      case 'LIMIT_PART_COUNT':
        return new AppError(
          'validation_error',
          `Too many parts in the multipart body (at most ${maxFiles} files and ${FIELD_LIMITS.fields} fields).`,
        );
      case 'LIMIT_FIELD_COUNT':
        return new AppError('validation_error', `Too many form fields (at most ${FIELD_LIMITS.fields}).`);
      case 'LIMIT_FIELD_KEY':
        return new AppError('validation_error', 'A form field name is too long.');
      case 'LIMIT_FIELD_VALUE':
        return new AppError(
          'validation_error',
          `A form field value is too long (at most ${FIELD_LIMITS.fieldSize} bytes).`,
        );
      case 'MISSING_FIELD_NAME':
        return new AppError('validation_error', 'A multipart part has no field name.');
      case 'LIMIT_FILE_SIZE':
        return new AppError('payload_too_large', e.message);
      default:
        return new AppError('validation_error', `Malformed multipart body: ${e.message}`);
    }
  }
  if ((e as { code?: string })?.code === CLIENT_ABORTED || /^Request aborted/.test((e as Error)?.message ?? '')) {
    return new AppError('validation_error', 'The upload was interrupted before the file was complete.');
  }
  const message = (e as Error)?.message ?? '';
  if (/Unexpected end of (form|multipart)|Malformed part header|boundary|Multipart/i.test(message)) {
    return new AppError('validation_error', `Malformed multipart body: ${message}`);
  }
  return e !== null && typeof e === 'object' ? (e as Error) : new Error(String(e));
}

/**
 * Reads the multipart body with multer into spool files (see SpoolStorageEngine). Runs after the
 * guards, so an unauthenticated or over-limit request never gets here.
 */
@Injectable()
export class MultipartInterceptor implements NestInterceptor {
  constructor(@Inject(FILE_STORAGE) private readonly storage: FileStorage) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const auth = authOf(req);
    if (!auth) throw new Error('MultipartInterceptor needs ApiKeyGuard');
    const maxFiles = filesPerRequest(auth.plan);
    // Each file part in flight listens for the request's close and idle events: up to maxFiles at once.
    req.setMaxListeners(Math.max(req.getMaxListeners(), maxFiles + 10));
    await this.storage.prepareSpool();
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: unknown) => {
        if (settled) return;
        settled = true;
        if (!err) return resolve();
        // Answer only once the spool file of a failed part is gone.
        void engine.idle().finally(() => reject(toAppError(err, engine.sawFile, maxFiles)));
      };
      const engine = new SpoolStorageEngine(
        this.storage.spoolDir(),
        auth.plan.maxFileBytes,
        auth.plan.maxFileBytes * maxFiles,
        settle,
      );
      // The body went idle (BODY_IDLE_TIMEOUT_SECONDS): the engine drops its spool file, then 408.
      req.once(BODY_IDLE, settle);
      const limits = { ...FIELD_LIMITS, files: maxFiles, parts: maxFiles + FIELD_LIMITS.fields };
      // preservePath: a folder's files arrive as `jan/claims.csv`, and that relative path is the file's `path`.
      const upload = multer({ storage: engine, limits, defParamCharset: 'utf8', preservePath: true }).fields(
        FILE_FIELDS.map((name) => ({ name })),
      );
      upload(req, res, (err?: unknown) => {
        req.off(BODY_IDLE, settle);
        settle(err);
      });
    });
    return next.handle();
  }
}
