import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page, type Route } from 'playwright-core';
import { api, startApp, type TestApp } from './support/app';
import { waitFor } from './support/wait';

/**
 * The dashboard's upload sessions in a real browser (issue 13, "The dashboard"): Debian's Chromium
 * driven by playwright-core, as in dashboard.e2e-spec.ts, against the real app with the local
 * driver (part URLs point at batchgate itself) and its in-process worker (validation). Part PUTs
 * are watched, failed or held with Playwright's route interception; nothing else is faked.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const inCi = Boolean(process.env.CI) && !/^(0|false)$/i.test(process.env.CI ?? '');
if (!hasChromium && !inCi) {
  console.warn(
    `SKIPPED the dashboard sessions browser test: ${CHROMIUM} does not exist (apt-get install -y chromium).`,
  );
}
const maybe = hasChromium || inCi ? describe : describe.skip;
jest.setTimeout(120000);

const MiB = 1024 * 1024;
/** A part PUT (the local driver's signed URL); not POST …/parts, which asks for fresh URLs. */
const PART_URL = /\/v1\/uploads\/(u_[^/?]+)\/parts\/(\d+)\?/;

/**
 * A CSV of the default schema of about `mib` MiB: every 1000th row has no content (skipped).
 * Returns the bytes and the counts the report must show.
 */
function bigCsv(mib: number): { bytes: Buffer; accepted: number; skipped: number } {
  const pad = 'x'.repeat(80);
  const lines = ['externalId,content'];
  let size = lines[0].length + 1;
  let accepted = 0;
  let skipped = 0;
  for (let i = 1; size < mib * MiB; i++) {
    const bad = i % 1000 === 0;
    const line = `id-${i},${bad ? '' : `row ${i} ${pad}`}`;
    lines.push(line);
    size += line.length + 1;
    if (bad) skipped++;
    else accepted++;
  }
  return { bytes: Buffer.from(lines.join('\n') + '\n'), accepted, skipped };
}

/** Part PUTs seen by the route handler, by part number (all sessions of the page, or one `uploadId`). */
class PartLog {
  readonly seen: { uploadId: string; partNumber: number }[] = [];
  count(partNumber: number, uploadId?: string): number {
    return this.seen.filter((s) => s.partNumber === partNumber && (!uploadId || s.uploadId === uploadId)).length;
  }
  sessions(): string[] {
    return [...new Set(this.seen.map((s) => s.uploadId))];
  }
}

/**
 * Routes every part PUT through `decide`, which answers how to treat it: continue to batchgate,
 * fail it with a status, or hold it until the promise given settles.
 */
async function interceptParts(
  page: Page,
  decide: (partNumber: number, attempt: number) => 'continue' | number | Promise<unknown>,
): Promise<PartLog> {
  const log = new PartLog();
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.route(PART_URL, async (route: Route) => {
    if (route.request().method() !== 'PUT') return route.fallback();
    const [, uploadId, n] = PART_URL.exec(route.request().url())!;
    const partNumber = Number(n);
    log.seen.push({ uploadId, partNumber });
    const what = decide(partNumber, log.count(partNumber, uploadId));
    if (typeof what === 'number') {
      await route.fulfill({
        status: what,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'internal_error', message: 'The test failed this part.' } }),
      });
      return;
    }
    if (what !== 'continue') await what;
    // A request held across a reload is gone by the time it is let through.
    await route.continue().catch(() => undefined);
  });
  return log;
}

maybe('dashboard upload sessions in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  let bigPath: string;
  let big: ReturnType<typeof bigCsv>;
  const problems: string[] = [];

  const byTestId = (id: string) => page.getByTestId(id);
  const digits = async (id: string) => Number(((await byTestId(id).textContent()) ?? '').replace(/\D/g, ''));
  const pending = () => page.evaluate<string | null>(`localStorage.getItem('batchgate.pendingUploads')`);

  /** The first transfer card's bars as the page shows them now. */
  const bars = () =>
    page.evaluate<{
      send: number;
      max: number;
      sendVisible: boolean;
      checkVisible: boolean;
      check: number;
    } | null>(`(() => {
      const card = document.querySelector('[data-testid="transfer"]');
      if (!card) return null;
      const send = card.querySelector('[data-testid="transfer-send-progress"]');
      const check = card.querySelector('[data-testid="transfer-check-progress"]');
      const wrap = card.querySelector('[data-testid="transfer-check"]');
      const visible = (el) => Boolean(el) && el.getClientRects().length > 0 && !el.closest('[hidden]');
      return { send: send.value, max: send.max, sendVisible: visible(send), checkVisible: visible(wrap), check: check.value };
    })()`);

  /** Samples the bars every 100 ms until `until` settles. */
  async function sampleUntil(until: Promise<unknown>) {
    const samples: NonNullable<Awaited<ReturnType<typeof bars>>>[] = [];
    let done = false;
    void until.finally(() => (done = true));
    while (!done) {
      const b = await bars().catch(() => null);
      if (b) samples.push(b);
      await new Promise((r) => setTimeout(r, 100));
    }
    return samples;
  }

  const shot = async (name: string) => {
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(__dirname, 'artifacts', name), fullPage: true });
  };

  async function enterKey(key: string) {
    await page.goto(`${t.url}/dashboard`);
    await byTestId('key-input').fill(key);
    await byTestId('key-submit').click();
    await byTestId('upload-section').waitFor();
  }

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`${CHROMIUM} does not exist and CI is set (apt-get install -y chromium).`);
    await mkdir(join(__dirname, 'artifacts'), { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'batchgate-dash-sessions-'));
    big = bigCsv(40);
    bigPath = join(dir, 'big.csv');
    await writeFile(bigPath, big.bytes);
    t = await startApp({ WORKER_IN_PROCESS: 'true' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('console', (m) => {
      // Chromium logs every answer it was given with an error status (the test's 500 among them) and
      // the PUT a reload or Cancel cut off; those are the test's own doing, not script errors.
      if (m.type() === 'error' && !/status of \d\d\d|ERR_ABORTED|net::ERR_FAILED/.test(m.text()))
        problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    await enterKey(t.keys.enterprise);
  }, 60000);

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends a 40 MiB CSV through a session with a moving bar, retries a part that failed once, and shows the report', async () => {
    expect(big.bytes.length).toBeGreaterThan(39 * MiB);
    let release: () => void = () => undefined;
    const part3 = new Promise<void>((r) => (release = r));
    // Part 2's first try fails with 500 (retried after 0.5 s); part 3 waits until part 2 is in, so
    // the bar is seen at several values on the way.
    const log = await interceptParts(page, (n, attempt) => {
      if (n === 2 && attempt === 1) return 500;
      if (n === 2) setTimeout(release, 700);
      if (n === 3) return part3;
      return 'continue';
    });
    await byTestId('file-input').setInputFiles(bigPath);
    const summary = byTestId('summary').waitFor({ timeout: 90000 });
    const samples = await sampleUntil(summary);
    await summary;

    // Three parts of 16, 16 and 8 MiB; each sent once, but part 2 twice (its retry).
    expect([1, 2, 3].map((n) => log.count(n))).toEqual([1, 2, 1]);
    expect(log.sessions()).toHaveLength(1);

    const sending = samples.filter((s) => s.sendVisible);
    expect(sending.length).toBeGreaterThanOrEqual(3);
    expect(sending.every((s) => s.max === big.bytes.length)).toBe(true);
    const values = sending.map((s) => s.send);
    // The bar moves: never back, through values between empty and full, to full.
    values.forEach((v, i) => expect(v).toBeGreaterThanOrEqual(i ? values[i - 1] : 0));
    expect(new Set(values).size).toBeGreaterThanOrEqual(3);
    expect(values.some((v) => v > 0 && v < big.bytes.length)).toBe(true);
    expect(values[values.length - 1]).toBe(big.bytes.length);
    // Then the validation bar.
    expect(samples.some((s) => s.checkVisible)).toBe(true);

    // The usual report: the same summary as a direct upload.
    expect(await digits('summary-accepted')).toBe(big.accepted);
    expect(await digits('summary-skipped')).toBe(big.skipped);
    expect(await byTestId('summary-file').textContent()).toBe('big.csv');
    expect(await byTestId('summary-fileid').textContent()).toMatch(/^f_/);
    await byTestId('warnings-range')
      .filter({ hasText: /^Warnings 1–/ })
      .waitFor();
    expect(await byTestId('error-wrap').isHidden()).toBe(true);
    await expect(byTestId('transfers').isHidden()).resolves.toBe(true);
    // Ended: nothing left to resume.
    expect(await pending()).toBeNull();
    await shot('dashboard-sessions-1-report.png');
  });

  it('resumes after a reload mid-upload, sending only the parts batchgate had not received', async () => {
    let releaseHeld: () => void = () => undefined;
    const held = new Promise<void>((r) => (releaseHeld = r));
    // Part 3 is held (never reaches batchgate) until the page was reloaded; after that it goes through.
    let reloaded = false;
    const log = await interceptParts(page, (n) => (n === 3 && !reloaded ? held : 'continue'));
    const parts12 = Promise.all(
      [1, 2].map((n) =>
        page.waitForResponse((r) => PART_URL.exec(r.url())?.[2] === String(n) && r.request().method() === 'PUT', {
          timeout: 60000,
        }),
      ),
    );
    await byTestId('file-input').setInputFiles(bigPath);
    expect((await parts12).map((r) => r.status())).toEqual([200, 200]);
    await waitFor(
      () => Promise.resolve(log.count(3)),
      (n) => n === 1,
    );
    const [uploadId] = log.sessions();
    const kept = JSON.parse((await pending()) ?? '[]');
    expect(kept).toEqual([expect.objectContaining({ uploadId, name: 'big.csv', size: big.bytes.length })]);
    expect(JSON.stringify(kept)).not.toContain(t.keys.enterprise);

    // The bar stands at the two parts received (upload progress of part 3 aside: it is held before batchgate).
    await waitFor(bars, (b) => Boolean(b && b.send >= 32 * MiB));
    await shot('dashboard-sessions-2-sending.png');

    reloaded = true;
    await page.reload();
    releaseHeld();
    await byTestId('resume-offer').waitFor();
    expect(await byTestId('resume-text').textContent()).toContain('The upload of big.csv (40 MB) was interrupted.');
    expect((await byTestId('resume-upload').textContent())?.trim()).toBe('Resume upload of big.csv (40 MB)');
    await shot('dashboard-sessions-3-resume-offer.png');

    // Another file first: refused, and the offer stays.
    const other = join(dir, 'other.csv');
    await writeFile(other, 'content\nx\n');
    await byTestId('resume-input').setInputFiles(other);
    await byTestId('resume-note')
      .filter({ hasText: /That is not the file that was being uploaded/ })
      .waitFor();
    expect(log.seen).toHaveLength(3);

    const asked: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/uploads')) asked.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    await byTestId('resume-input').setInputFiles(bigPath);
    await byTestId('summary').waitFor({ timeout: 90000 });
    // Parts 1 and 2 arrived before the reload and were not sent again; part 3 was sent once more.
    expect([1, 2, 3].map((n) => log.count(n, uploadId))).toEqual([1, 1, 2]);
    expect(asked.slice(0, 3)).toEqual([
      `GET /v1/uploads/${uploadId}`,
      `POST /v1/uploads/${uploadId}/parts`,
      `PUT /v1/uploads/${uploadId}/parts/3`,
    ]);
    expect(await digits('summary-accepted')).toBe(big.accepted);
    expect(await digits('summary-skipped')).toBe(big.skipped);
    expect(await pending()).toBeNull();
    await expect(byTestId('resume-offer').isHidden()).resolves.toBe(true);
    const view = await api(t, t.keys.enterprise, 'GET', `/v1/uploads/${uploadId}`);
    expect(view.body).toMatchObject({ status: 'ready', fileId: expect.stringMatching(/^f_/) });
  });

  it('cancels: no part is sent after Cancel, and the session is deleted', async () => {
    let releaseHeld: () => void = () => undefined;
    const held = new Promise<void>((r) => (releaseHeld = r));
    const log = await interceptParts(page, () => held);
    const deletes: string[] = [];
    const onRequest = (r: { method(): string; url(): string }) => {
      if (r.method() === 'DELETE') deletes.push(new URL(r.url()).pathname);
    };
    page.on('request', onRequest);
    await byTestId('file-input').setInputFiles(bigPath);
    await waitFor(
      () => Promise.resolve(log.seen.length),
      (n) => n === 3,
    );
    const [uploadId] = log.sessions();
    await byTestId('cancel-upload').click();
    await byTestId('status').filter({ hasText: 'The upload was cancelled' }).waitFor();
    releaseHeld();
    page.off('request', onRequest);
    expect(deletes).toEqual([`/v1/uploads/${uploadId}`]);
    const view = await api(t, t.keys.enterprise, 'GET', `/v1/uploads/${uploadId}`);
    expect([view.status, view.body.error.code]).toEqual([404, 'upload_not_found']);
    await new Promise((r) => setTimeout(r, 1500));
    expect(log.seen).toHaveLength(3);
    expect(await pending()).toBeNull();
    await expect(byTestId('resume-offer').isHidden()).resolves.toBe(true);
    await expect(byTestId('summary').isHidden()).resolves.toBe(true);
    await expect(byTestId('transfers').isHidden()).resolves.toBe(true);
  });

  it('stops after 5 failed tries of a part, says so, and sends it again with Try again (no reload, no new pick)', async () => {
    let failing = true;
    const log = await interceptParts(page, () => (failing ? 503 : 'continue'));
    await byTestId('resumable-input').check();
    await byTestId('file-input').setInputFiles({
      name: 'small.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('content\nfirst\nsecond\n'),
    });
    // Tries after 0.5, 1, 2 and 4 s: then the upload stops, resumable.
    await byTestId('error').filter({ hasText: 'The upload failed.' }).waitFor({ timeout: 30000 });
    expect(await byTestId('error').textContent()).toContain('batchgate had a problem on its side (HTTP 503)');
    expect(log.seen.map((s) => s.partNumber)).toEqual([1, 1, 1, 1, 1]);
    const [uploadId] = log.sessions();
    await byTestId('resume-offer').waitFor();
    expect(await byTestId('resume-text').textContent()).toContain(
      'The upload of small.csv (21 bytes) was interrupted.',
    );
    failing = false;
    await byTestId('resume-again').click();
    await byTestId('summary').waitFor({ timeout: 30000 });
    expect(log.sessions()).toEqual([uploadId]);
    expect(log.seen).toHaveLength(6);
    expect(await byTestId('summary-accepted').textContent()).toBe('2');
    await expect(byTestId('error-wrap').isHidden()).resolves.toBe(true);
    await expect(byTestId('resume-offer').isHidden()).resolves.toBe(true);
    expect(await pending()).toBeNull();
    await byTestId('resumable-input').uncheck();
  });

  it('several small files with "resumable" ticked: a session each, one card each, a validation refusal among them', async () => {
    const log = await interceptParts(page, () => 'continue');
    await byTestId('resumable-input').check();
    await byTestId('file-input').setInputFiles([
      { name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from('content,externalId\nfirst,1\nsecond,2\n,3\n') },
      { name: 'empty-rows.csv', mimeType: 'text/csv', buffer: Buffer.from('content,externalId\n,1\n,2\n') },
      { name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex') },
    ]);
    await byTestId('files').waitFor({ timeout: 60000 });
    expect(log.sessions()).toHaveLength(3);
    expect(log.seen.map((s) => s.partNumber)).toEqual([1, 1, 1]);
    const cards = byTestId('file-card');
    await expect(cards.count()).resolves.toBe(3);
    const states = await Promise.all([0, 1, 2].map((i) => cards.nth(i).getAttribute('data-state')));
    expect(states).toEqual(['accepted', 'refused', 'refused']);
    expect(await cards.nth(0).getByTestId('file-card-counts').textContent()).toBe('2 items accepted, 1 row skipped');
    expect(await cards.nth(1).getByTestId('file-card-refusal').textContent()).toContain('The file could not be used');
    expect(await cards.nth(2).getByTestId('file-card-refusal').textContent()).toContain(
      'This kind of file cannot be read',
    );
    expect(await byTestId('files-message').textContent()).toBe('3 files: 1 uploaded, 2 refused.');
    await byTestId('dry-run-verdict')
      .filter({ hasText: /^Ready\. / })
      .waitFor();
    await byTestId('resumable-input').uncheck();
  });
});
