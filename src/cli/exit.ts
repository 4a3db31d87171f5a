import type { ErrorEnvelope } from './api-types';

/** The exit codes a script can trust (README, "Command line"). */
export const EXIT = {
  ok: 0,
  /** The service refused the request: its sentence is on stderr. */
  refused: 1,
  /** Bad flags or arguments, or no API key anywhere. */
  usage: 2,
  /** No usable answer from the service after the retries. */
  unreachable: 3,
  /** `--wait`: the batch ended failed (or cancelled). */
  batchFailed: 4,
  /** `--fail-on-warnings`: rows were skipped. */
  warnings: 5,
  /** Ctrl-C. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A command's end other than success: the exit code and the line(s) for stderr. */
export class CliExit extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
    /** With --json: what stdout gets (null: nothing). */
    readonly json: unknown = null,
  ) {
    super(message);
  }
}

export class UsageError extends CliExit {
  constructor(message: string) {
    super(EXIT.usage, message);
  }
}

/** The service's sentence, with the batch or file it names in `details` (a 409 says which batch). */
function sentenceOf(envelope: ErrorEnvelope | null): string | undefined {
  const e = envelope?.error;
  if (!e?.message) return undefined;
  const d = e.details ?? {};
  const named = [
    typeof d.fileId === 'string' ? `file ${d.fileId}` : '',
    typeof d.batchId === 'string' ? `batch ${d.batchId}` : '',
  ].filter(Boolean);
  if (!named.length || named.some((n) => e.message.includes(n.split(' ')[1]))) return e.message;
  return `${e.message.replace(/\.$/, '')} (${named.join(', ')}).`;
}

/** A non-2xx answer from the service, with API.md's envelope when it sent one. */
export class ServiceError extends CliExit {
  constructor(
    readonly status: number,
    readonly envelope: ErrorEnvelope | null,
    fallback: string,
  ) {
    super(EXIT.refused, sentenceOf(envelope) ?? fallback, envelope ?? { error: { message: fallback }, status });
  }

  get errorCode(): string | undefined {
    return this.envelope?.error?.code;
  }
}

export class UnreachableError extends CliExit {
  constructor(message: string) {
    super(EXIT.unreachable, message, { error: { code: 'unreachable', message } });
  }
}
