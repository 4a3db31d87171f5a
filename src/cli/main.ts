import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchCancel, batchCreate, batchGet, batchList, batchResults, type CreateFlags } from './commands/batches';
import {
  uploadCommand,
  uploadDiscard,
  uploadErrors,
  uploadGet,
  uploadPreview,
  type UploadFlags,
} from './commands/uploads';
import { DEFAULT_URL } from './config';
import { Ctx, type GlobalOptions } from './context';
import { CliExit, EXIT } from './exit';
import type { Io } from './terminal';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const EPILOG = `
Configuration: flags first, then BATCHGATE_URL, BATCHGATE_API_KEY (an API key or a JWT),
BATCHGATE_RETRIES, BATCHGATE_RETRY_DELAY_MS, BATCHGATE_TIMEOUT_MS, BATCHGATE_SESSION_THRESHOLD, then
the "url", "apiKey", "retries", "retryDelayMs", "timeoutMs", "sessionThreshold" of
$XDG_CONFIG_HOME/batchgate/config.json
(~/.config/batchgate/config.json). Default URL ${DEFAULT_URL}.

Large files: a file over the session threshold (16 MiB unless --session-threshold or
BATCHGATE_SESSION_THRESHOLD says otherwise) goes through an upload session: read once for its sha256,
then its parts PUT --parallel at a time to signed URLs, each part retried, then validated by the
service. --session sends every file so, --direct none. Ctrl-C cancels the session; after a crash or
a lost connection, the same command with --resume sends only the parts that did not arrive (state in
$XDG_STATE_HOME/batchgate/uploads, ~/.local/state/batchgate/uploads).

Exit codes: 0 done; 1 refused by the service (its sentence on stderr); 2 usage; 3 the service
unreachable after the retries; 4 the batch ended failed or cancelled; 5 rows skipped, with
--fail-on-warnings; 130 interrupted.`;

/** The program; `run` receives each action's exit code. */
function program(io: Io, signal: AbortSignal, done: (code: number) => void): Command {
  const root = new Command('batchgate');
  let ctx: Ctx | undefined;
  const context = (cmd: Command) => (ctx ??= new Ctx(io, cmd.optsWithGlobals<GlobalOptions>(), signal));
  /** Wraps an action: its exit code, or the CliExit it threw, becomes the command's exit code. */
  const run =
    <A extends unknown[]>(fn: (ctx: Ctx, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      const c = context(cmd);
      try {
        done(await fn(c, ...(args.slice(0, -1) as A)));
      } catch (e) {
        if (!(e instanceof CliExit)) throw e;
        c.progress.stop();
        if (e.json !== null && e.code !== EXIT.usage) c.emit(e.json);
        c.err(`batchgate: ${e.message}`);
        done(e.code);
      }
    };

  root
    .description('Upload files to batchgate, see their warnings, make batches, follow them and fetch the results.')
    .version(version(), '-V, --version')
    .option('--url <url>', `the service's base URL (BATCHGATE_URL; default ${DEFAULT_URL})`)
    .option('--api-key <key>', 'API key or JWT (BATCHGATE_API_KEY)')
    .option('--json', 'machine-readable output: one JSON document on stdout')
    .option('-q, --quiet', 'no progress and no retry notices on stderr')
    .option('--no-color', 'no colours (also: NO_COLOR set)')
    .option('--retries <n>', 'tries after the first, when the service is unreachable or busy (default 4)')
    .option('--retry-delay <ms>', 'first backoff, doubled each retry; Retry-After wins (default 500)')
    .option('--timeout <ms>', 'per request, uploads and downloads excepted (default 30000)')
    .addHelpText('after', EPILOG)
    .showHelpAfterError('(batchgate --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const uploadOptions = (cmd: Command) =>
    cmd
      .option('--schema <name>', 'item schema (default: default)')
      .addOption(new Option('--format <format>', 'override detection').choices(['csv', 'json', 'ndjson']))
      .addOption(
        new Option('--encoding <encoding>', 'override detection').choices([
          'utf-8',
          'utf-16le',
          'utf-16be',
          'windows-1252',
        ]),
      )
      .option('--path <path>', "one file: its path label; several: the folder each file's path goes under")
      .option('--errors-csv <out>', 'save the rejected rows as CSV (several files: OUT is a folder)')
      .option('--warnings <n>', 'how many row warnings to show per file (default 10)')
      .option('--fail-on-warnings', 'exit 5 when any row was skipped')
      .option('--session', 'send every file through an upload session (signed part URLs), whatever its size')
      .option('--direct', 'never use an upload session: every file in the one multipart request')
      .option(
        '--session-threshold <size>',
        'files over this go through a session (bytes, or KiB/MiB/GiB; BATCHGATE_SESSION_THRESHOLD; default 16MiB)',
      )
      .option('--parallel <n>', 'session parts sent at once per file (default 4)')
      .option('--resume', 'pick up the interrupted upload session of each file: only the parts not received are sent')
      .option(
        '--no-checksum',
        "sessions: skip reading the file first for its sha256 (the service then can't check it)",
      );

  const upload = uploadOptions(
    root
      .command('upload')
      .description(
        'upload files and show their warnings (small files in one request, large ones through upload sessions); or: upload get|errors|preview|discard ID',
      )
      .argument('[files...]', 'CSV, JSON or NDJSON files, optionally gzip-compressed'),
  ).action(run((c, files: string[], flags: UploadFlags) => uploadCommand(c, files, flags)));
  upload
    .command('get')
    .description("an upload's metadata and status")
    .argument('<fileId>')
    .action(run((c, id: string) => uploadGet(c, id)));
  upload
    .command('errors')
    .description("an upload's row errors, all of them (a page at a time), or the rejected rows as CSV")
    .argument('<fileId>')
    .option('--offset <n>', 'first error (default 0)')
    .option('--limit <n>', 'errors per page (default 100, at most 1000)')
    .option('--csv <out>', 'the rejected rows as a CSV to fix and upload again (- for stdout)')
    .action(
      run((c, id: string, flags: { offset?: string; limit?: string; csv?: string }) => uploadErrors(c, id, flags)),
    );
  upload
    .command('preview')
    .description('the first valid items as they will be processed')
    .argument('<fileId>')
    .option('--limit <n>', 'items (default 20, at most 100)')
    .action(run((c, id: string, flags: { limit?: string }) => uploadPreview(c, id, flags)));
  upload
    .command('discard')
    .description('discard an unconsumed upload')
    .argument('<fileId>')
    .action(run((c, id: string) => uploadDiscard(c, id)));

  const batch = root.command('batch').description('create, follow, list, cancel batches and fetch their results');
  uploadOptions(
    batch
      .command('create')
      .description('create a batch from uploads (--file-id) or from files uploaded first (--from-upload)')
      .option('--file-id <id>', 'an upload to consume (repeat for several)', collect)
      .option('--from-upload <file>', 'upload this file first (repeat for several)', collect)
      .option('--name <name>', 'batch name')
      .option('--metadata <key=value>', 'batch metadata (repeat)', collect)
      .option('--dry-run', "the service's verdict, consuming nothing")
      .option('--wait', 'follow the batch to its end, with its processed items')
      .option('--results <out>', 'then write its results (NDJSON) to OUT (- for stdout); implies --wait')
      .option('--poll-interval <ms>', 'while waiting (default 500)')
      .option('--idempotency-key <key>', 'default: derived from the request, so the same command never makes two')
      .option('--allow-duplicate', '--from-upload: create even when the same files already made a batch'),
  ).action(run((c, flags: CreateFlags) => batchCreate(c, flags)));
  batch
    .command('get')
    .description('a batch and its progress')
    .argument('<id>')
    .option('--wait', 'follow it to its end')
    .option('--poll-interval <ms>', 'while waiting (default 500)')
    .action(run((c, id: string, flags: { wait?: boolean; pollInterval?: string }) => batchGet(c, id, flags)));
  batch
    .command('list')
    .description("the organization's batches, newest first")
    .addOption(new Option('--status <status>').choices(['queued', 'processing', 'completed', 'failed', 'cancelled']))
    .option('--limit <n>', 'default 20, at most 100')
    .option('--offset <n>', 'default 0')
    .action(run((c, flags: { status?: string; limit?: string; offset?: string }) => batchList(c, flags)));
  batch
    .command('cancel')
    .description('cancel a batch: items not yet processed are not processed')
    .argument('<id>')
    .action(run((c, id: string) => batchCancel(c, id)));
  batch
    .command('results')
    .description("a batch's results, one NDJSON line per processed item")
    .argument('<id>')
    .option('--out <file>', 'write them here (default: stdout)')
    .action(run((c, id: string, flags: { out?: string }) => batchResults(c, id, flags)));
  return root;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[], io: Io = process): Promise<number> {
  const abort = new AbortController();
  // The first Ctrl-C aborts and lets the command clean up (cancel its upload sessions); a second one
  // does not wait for that.
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(EXIT.interrupted);
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  let code: number = EXIT.ok;
  try {
    await program(io, abort.signal, (c) => (code = c)).parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with exitCode 0; every parse error, and help shown for one, is usage.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(`batchgate: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.refused;
  } finally {
    process.off('SIGINT', onSigint);
  }
  return code;
}
