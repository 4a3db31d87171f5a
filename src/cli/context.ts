import { resolveConfig, type GlobalFlags } from './config';
import { ApiClient } from './http-client';
import { makeProgress, type Progress } from './progress';
import { detectTerminal, type Io, type Terminal } from './terminal';

export interface GlobalOptions extends GlobalFlags {
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
}

/** What every command gets: where to write, how it may look, and the service's client. */
export class Ctx {
  readonly term: Terminal;
  readonly progress: Progress;
  readonly json: boolean;
  private apiClient?: ApiClient;

  constructor(
    readonly io: Io,
    private readonly flags: GlobalOptions,
    readonly signal: AbortSignal,
  ) {
    this.term = detectTerminal(io, { color: flags.color !== false });
    this.json = flags.json === true;
    this.progress = makeProgress(io.stderr, this.term, flags.quiet === true);
  }

  /** Configuration is read (and checked) on first use: `--help` needs none of it. */
  get client(): ApiClient {
    this.apiClient ??= new ApiClient(resolveConfig(this.flags, this.io.env), this.signal, (line) =>
      this.progress.note(line),
    );
    return this.apiClient;
  }

  /** A line for people on stdout (nothing with --json: stdout then holds one JSON document). */
  out(line = ''): void {
    if (!this.json) this.io.stdout.write(`${line}\n`);
  }

  lines(lines: string[]): void {
    for (const l of lines) this.out(l);
  }

  /** The JSON document of --json. */
  emit(value: unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A line on stderr (sentences of refusals, notes). */
  err(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }
}
