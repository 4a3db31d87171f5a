import { MultiBar, type Options, type Params } from 'cli-progress';
import { type Painter, type Terminal, plural, size } from './terminal';

/** One file on its way: bytes sent, then validation, then its verdict. */
export interface FileProgress {
  /** Upload session: the file read once for its sha256, before a byte is sent. */
  hashed(bytes: number): void;
  /** Upload session picked up again: these bytes had arrived before. */
  resumed(already: number): void;
  sent(bytes: number): void;
  validating(): void;
  /** Upload session: the service's validation progress (bytes of the file read, rows so far). */
  validated(bytesRead: number, rows: number): void;
  /** Its last line: `ok` false paints it as a refusal. */
  finish(text: string, ok: boolean): void;
}

/** A batch being followed: processed items of the total. */
export interface ItemsProgress {
  update(processed: number, total: number, status: string): void;
  finish(text: string, ok: boolean): void;
}

/**
 * Progress on stderr, so that stdout keeps only the results (what a script parses). On a terminal:
 * live bars, one per file or batch (cli-progress). Otherwise: plain lines, at most one every
 * PLAIN_EVERY_MS per bar besides its first and last. `--quiet`: nothing.
 */
export interface Progress {
  file(label: string, totalBytes: number): FileProgress;
  items(label: string, total: number): ItemsProgress;
  /** A line of its own (a retry notice), printed above the bars. */
  note(line: string): void;
  stop(): void;
}

const PLAIN_EVERY_MS = 2000;
const BAR_WIDTH = 24;

interface BarPayload {
  label: string;
  state: string;
  unit: 'bytes' | 'items';
  done?: string;
  ok?: boolean;
}

function drawBar(fraction: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  return '█'.repeat(full) + '░'.repeat(BAR_WIDTH - full);
}

function barFormat(paint: Painter, labelWidth: () => number) {
  return (_options: Options, params: Params, payload: BarPayload): string => {
    const label = payload.label.padEnd(labelWidth());
    if (payload.done !== undefined)
      return `${label}  ${payload.ok ? paint.green(payload.done) : paint.red(payload.done)}`;
    const fraction = params.total > 0 ? params.value / params.total : 0;
    const amount =
      payload.unit === 'bytes'
        ? `${size(params.value)} / ${size(params.total)}`
        : `${params.value.toLocaleString('en-US')} / ${plural(params.total, 'item')}`;
    const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
    return `${label}  ${paint.cyan(drawBar(fraction))} ${pct}  ${amount}  ${paint.dim(payload.state)}`;
  };
}

class BarsProgress implements Progress {
  private readonly multi: MultiBar;
  private labelWidth = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    paint: Painter,
  ) {
    this.multi = new MultiBar({
      stream,
      format: barFormat(paint, () => this.labelWidth),
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 10,
      // Our own checks decided that this is a terminal.
      noTTYOutput: false,
    });
  }

  private bar(label: string, total: number, payload: BarPayload) {
    this.labelWidth = Math.min(40, Math.max(this.labelWidth, label.length));
    return this.multi.create(total, 0, { ...payload, label: label.slice(0, 40) });
  }

  file(label: string, totalBytes: number): FileProgress {
    const bar = this.bar(label, totalBytes, { label, state: 'sending', unit: 'bytes' });
    return {
      hashed: (bytes) => bar.update(bytes, { state: 'sha256' }),
      resumed: (already) => bar.update(already, { state: 'sending (resumed)' }),
      sent: (bytes) => bar.update(bytes, { state: 'sending' }),
      validating: () => bar.update(totalBytes, { state: 'validating' }),
      // The bar starts again from 0: the service reading the file it now holds.
      validated: (bytesRead, rows) =>
        bar.update(Math.min(bytesRead, totalBytes), { state: `validating, ${plural(rows, 'row')}` }),
      finish: (text, ok) => bar.update({ done: text, ok }),
    };
  }

  items(label: string, total: number): ItemsProgress {
    const bar = this.bar(label, Math.max(total, 1), { label, state: 'queued', unit: 'items' });
    return {
      update: (processed, t, status) => {
        bar.setTotal(Math.max(t, 1));
        bar.update(processed, { state: status });
      },
      finish: (text, ok) => bar.update({ done: text, ok }),
    };
  }

  note(line: string): void {
    this.multi.log(`${line}\n`);
  }

  stop(): void {
    this.multi.update();
    this.multi.stop();
  }
}

class PlainProgress implements Progress {
  constructor(private readonly stream: NodeJS.WriteStream) {}

  private write(line: string) {
    this.stream.write(`${line}\n`);
  }

  /** A writer that lets a bar's lines through at most every PLAIN_EVERY_MS (the first always). */
  private throttled(label: string) {
    let last = 0;
    return (text: string, force = false) => {
      const now = Date.now();
      if (!force && now - last < PLAIN_EVERY_MS) return;
      last = now;
      this.write(`${label}: ${text}`);
    };
  }

  file(label: string, totalBytes: number): FileProgress {
    const say = this.throttled(label);
    // Several files go one after another in one request: each file's first line when its turn comes.
    let started = false;
    const start = () => {
      if (!started) say(`sending ${size(totalBytes)}`, true);
      started = true;
    };
    let validating = false;
    let hashing = false;
    return {
      hashed: (bytes) => {
        if (!hashing) say(`reading ${size(totalBytes)} for its sha256`, true);
        hashing = true;
        if (bytes < totalBytes) say(`${size(bytes)} of ${size(totalBytes)} read for its sha256`);
      },
      resumed: (already) => {
        if (!started) say(`sending ${size(totalBytes - already)} (of ${size(totalBytes)}: the rest is there)`, true);
        started = true;
      },
      sent: (bytes) => {
        start();
        if (bytes < totalBytes) say(`${size(bytes)} of ${size(totalBytes)} sent`);
      },
      validating: () => {
        start();
        if (!validating) say('sent, validating', true);
        validating = true;
      },
      validated: (bytesRead, rows) =>
        say(`validating: ${size(bytesRead)} of ${size(totalBytes)} read, ${plural(rows, 'row')}`),
      finish: (text) => say(text, true),
    };
  }

  items(label: string, total: number): ItemsProgress {
    const say = this.throttled(label);
    let lastText = '';
    return {
      update: (processed, t, status) => {
        const text = `${status}, ${processed.toLocaleString('en-US')} of ${plural(t || total, 'item')} processed`;
        if (text !== lastText) say(text, lastText === '');
        lastText = text;
      },
      finish: (text) => say(text, true),
    };
  }

  note(line: string): void {
    this.write(line);
  }

  stop(): void {}
}

class SilentProgress implements Progress {
  file(): FileProgress {
    const nothing = () => undefined;
    return {
      hashed: nothing,
      resumed: nothing,
      sent: nothing,
      validating: nothing,
      validated: nothing,
      finish: nothing,
    };
  }
  items(): ItemsProgress {
    return { update: () => undefined, finish: () => undefined };
  }
  note(): void {}
  stop(): void {}
}

export function makeProgress(stderr: NodeJS.WriteStream, term: Terminal, quiet: boolean): Progress {
  if (quiet) return new SilentProgress();
  return term.bars ? new BarsProgress(stderr, term.err) : new PlainProgress(stderr);
}
