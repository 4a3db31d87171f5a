import { createHash } from 'node:crypto';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { api, startApp, upload, type TestApp } from './support/app';
import { waitFor } from './support/wait';

/**
 * Issue 9: /docs-json is a document a client generator can use. Every body is described, the
 * descriptions match what the service really answers, openapi-typescript's types of it type-check a
 * client under strict TypeScript, and Redocly's recommended rules find no error.
 */

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

interface Operation {
  path: string;
  method: string;
  op: any;
}

function operations(doc: any): Operation[] {
  return Object.entries(doc.paths as Record<string, any>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] })),
  );
}

/**
 * For checking live answers only: every object schema that lists its properties is closed, so a
 * field the service sends but the document does not describe fails. (The published document stays
 * open: clients must tolerate fields added later.)
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const out = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'example' ? v : closed(v)]));
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: any;
  let dir: string;
  let ajv: Ajv;

  beforeAll(async () => {
    t = await startApp({ WORKER_IN_PROCESS: 'true' });
    const res = await fetch(`${t.url}/docs-json`);
    expect(res.status).toBe(200);
    doc = await res.json();
    dir = await mkdtemp(join(tmpdir(), 'batchgate-openapi-'));
    ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, formats: { binary: true } });
    addFormats(ajv);
    ajv.addVocabulary(['example', 'components']);
    ajv.addSchema({ $id: 'doc', components: { schemas: closed(doc.components.schemas) } });
  });

  afterAll(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const validator = (schema: any): ValidateFunction =>
    ajv.compile(schema.$ref ? { $ref: `doc${schema.$ref as string}` } : (closed(schema) as object));

  /** Checks a live answer against the schema the document gives for its operation and status. */
  function expectDocumented(path: string, method: string, res: { status: number; body: unknown }) {
    const response = doc.paths[path]?.[method]?.responses?.[String(res.status)];
    if (!response) throw new Error(`${method.toUpperCase()} ${path} answered ${res.status}, which is not documented`);
    const validate = validator(response.content['application/json'].schema);
    if (!validate(res.body)) {
      throw new Error(
        `${method.toUpperCase()} ${path} ${res.status} does not match its schema: ${ajv.errorsText(validate.errors)}\n` +
          JSON.stringify(res.body),
      );
    }
  }

  it('is a document of every route with servers, and its components include the bodies', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Upload',
        'UploadView',
        'SeveralUploads',
        'Batch',
        'BatchPage',
        'FilesSource',
        'RowError',
        'ErrorEnvelope',
      ]),
    );
    expect(doc.components.schemas.ErrorEnvelope.required).toEqual(['error', 'requestId']);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/batch/upload',
        '/v1/batch/upload/{fileId}',
        '/v1/batch/upload/{fileId}/errors',
        '/v1/batch/upload/{fileId}/preview',
        '/v1/batch',
        '/v1/batch/{id}',
        '/v1/batches',
        '/v1/batch/{id}/results',
        '/v1/batch/{id}/cancel',
        '/health',
        '/ready',
        '/metrics',
        '/dashboard',
        '/docs',
        '/docs-json',
      ]),
    );
  });

  it('every /v1 answer has a schema (the envelope for every error) and needs the bearer key', () => {
    const v1 = operations(doc).filter((o) => o.path.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThanOrEqual(10);
    // A local part URL: signed, no API key (API.md "Upload sessions").
    const signed = (path: string, method: string) =>
      path === '/v1/uploads/{uploadId}/parts/{partNumber}' && method === 'put';
    expect(v1.filter((o) => signed(o.path, o.method))).toHaveLength(1);
    for (const { path, method, op } of v1) {
      const where = `${method.toUpperCase()} ${path}`;
      if (signed(path, method)) {
        expect(op.security).toEqual([]);
        expect(Object.keys(op.requestBody.content)).toEqual(['application/octet-stream']);
        expect(Object.keys(op.responses)).toEqual(['200', '400', '403', '404', '408', '409', '410', '503']);
      } else expect([where, op.security]).toEqual([where, [{ bearer: [] }]]);
      // (An array is always truthy: compare, so that a missing answer fails.)
      for (const status of signed(path, method) ? ['503'] : ['401', '403', '429', '503'])
        expect([where, status, op.responses[status] !== undefined]).toEqual([where, status, true]);
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        if (status === '204') {
          expect([where, status, response.content]).toEqual([where, status, undefined]);
          continue;
        }
        const content = response.content as Record<string, { schema?: unknown }> | undefined;
        expect([where, status, Object.keys(content ?? {}).length > 0]).toEqual([where, status, true]);
        for (const [type, media] of Object.entries(content ?? {})) {
          expect([where, status, type, media.schema !== undefined]).toEqual([where, status, type, true]);
        }
        if (Number(status) >= 400) {
          expect([where, status, content]).toEqual([
            where,
            status,
            { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
          ]);
        }
      }
    }
  });

  it('gives each answer its media type', () => {
    const ok = (path: string, method = 'get', status = '200') =>
      Object.keys(doc.paths[path][method].responses[status].content);
    expect(ok('/v1/batch/{id}/results')).toEqual(['application/x-ndjson']);
    expect(ok('/v1/batch/upload/{fileId}/errors')).toEqual(['application/json', 'text/csv']);
    expect(ok('/metrics')).toEqual(['text/plain']);
    expect(ok('/dashboard')).toEqual(['text/html']);
    expect(ok('/v1/batch', 'post', '202')).toEqual(['application/json']);
    expect(doc.paths['/v1/batch'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/CreateBatchRequest',
    });
    expect(Object.keys(doc.paths['/v1/batch/upload'].post.requestBody.content)).toEqual(['multipart/form-data']);
    // One file part: the single-file body; two or more: each file on its own.
    expect(doc.paths['/v1/batch/upload'].post.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/UploadResult',
    });
    expect(doc.components.schemas.UploadResult.oneOf).toEqual([
      { $ref: '#/components/schemas/Upload' },
      { $ref: '#/components/schemas/SeveralUploads' },
    ]);
    expect(Object.keys(doc.components.schemas.UploadForm.properties)).toEqual(
      expect.arrayContaining(['file', 'files', 'file[]', 'path']),
    );
  });

  it('marks the routes without an API key public with security: []', () => {
    const open = operations(doc).filter((o) => !o.path.startsWith('/v1/'));
    expect(open.map((o) => o.path).sort()).toEqual([
      '/dashboard',
      '/docs',
      '/docs-json',
      '/docs-yaml',
      '/health',
      '/metrics',
      '/ready',
    ]);
    for (const { path, op } of open) expect([path, op.security]).toEqual([path, []]);
  });

  it("passes Redocly's recommended rules without an error", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'docs-json.json', config });
    const errors = problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.ruleId}: ${p.message} at ${p.location.map((l) => l.pointer).join(', ')}`);
    expect(errors).toEqual([]);
  });

  it("has examples that match their own schemas (the README's real answers)", () => {
    const withExamples = Object.entries(doc.components.schemas as Record<string, any>).filter(([, s]) => s.example);
    expect(withExamples.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'Upload',
        'UploadView',
        'UploadedFile',
        'RefusedFile',
        'SeveralUploads',
        'Batch',
        'FilesSource',
        'BatchCreated',
        'CreateBatchFromFiles',
        'DryRunVerdict',
        'ResultLine',
        'ErrorEnvelope',
      ]),
    );
    for (const [name, schema] of withExamples) {
      const validate = validator({ $ref: `#/components/schemas/${name}` });
      expect([name, validate(schema.example) ? 'valid' : ajv.errorsText(validate.errors)]).toEqual([name, 'valid']);
    }
  });

  /** Reads a batch's results and checks every NDJSON line against the documented line schema. */
  async function expectResultLines(key: string, batchId: string): Promise<Record<string, unknown>[]> {
    const results = await api(t, key, 'GET', `/v1/batch/${batchId}/results`);
    expect(results.status).toBe(200);
    expect(results.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const line = validator(
      doc.paths['/v1/batch/{id}/results'].get.responses['200'].content['application/x-ndjson'].schema,
    );
    const lines = results.text.trim().split('\n');
    for (const l of lines) expect([l, line(JSON.parse(l))]).toEqual([l, true]);
    return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** A multipart upload of several file parts (the field name per part: file, files or file[]). */
  async function uploadMany(key: string, parts: { name: string; body: string | Buffer; field?: string }[]) {
    const form = new FormData();
    for (const p of parts) form.append(p.field ?? 'file', new Blob([p.body]), p.name);
    const res = await fetch(`${t.url}/v1/batch/upload`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}` },
      body: form,
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  it('describes what the service really answers, field by field', async () => {
    // The checker itself: an undescribed field and a missing one are both caught.
    const uploadSchema = validator({ $ref: '#/components/schemas/Upload' });
    const example = doc.components.schemas.Upload.example;
    expect(uploadSchema(example)).toBe(true);
    expect(uploadSchema({ ...example, undescribed: 1 })).toBe(false);
    expect(uploadSchema({ ...example, fileId: undefined })).toBe(false);

    const key = t.keys.pro;
    const csv = 'content,externalId\nFirst claim,c-1\n,c-2\nThird claim,c-3\n';
    const up = await upload(t, key, csv, { name: 'claims.csv' });
    expect(up.status).toBe(200);
    expectDocumented('/v1/batch/upload', 'post', up);
    const fileId = up.body.fileId as string;
    const file = '/v1/batch/upload/{fileId}';

    expectDocumented(file, 'get', await api(t, key, 'GET', `/v1/batch/upload/${fileId}`));
    expectDocumented(`${file}/errors`, 'get', await api(t, key, 'GET', `/v1/batch/upload/${fileId}/errors`));
    expectDocumented(`${file}/errors`, 'get', await api(t, key, 'GET', `/v1/batch/upload/${fileId}/errors?limit=0`));
    expectDocumented(`${file}/preview`, 'get', await api(t, key, 'GET', `/v1/batch/upload/${fileId}/preview`));
    const csvErrors = await api(t, key, 'GET', `/v1/batch/upload/${fileId}/errors?format=csv`);
    expect(csvErrors.headers.get('content-type')).toMatch(/^text\/csv/);

    expectDocumented('/v1/batch', 'post', await api(t, key, 'POST', '/v1/batch', { fileId, dryRun: true }));
    const refused = await api(t, t.keys.free, 'POST', '/v1/batch', { items: [{ content: 'x' }], dryRun: true });
    expect(refused.body).toMatchObject({ verdict: 'refused', error: { code: 'quota_exceeded' } });
    expectDocumented('/v1/batch', 'post', refused);

    const created = await api(t, key, 'POST', '/v1/batch', { fileId, name: 'January claims' });
    expect(created.status).toBe(202);
    expectDocumented('/v1/batch', 'post', created);
    const again = await api(t, key, 'POST', '/v1/batch', { fileId });
    expect(again.status).toBe(409);
    expectDocumented('/v1/batch', 'post', again);
    expectDocumented(file, 'get', await api(t, key, 'GET', `/v1/batch/upload/${fileId}`)); // consumed: batchId

    const direct = await api(t, key, 'POST', '/v1/batch', { items: [{ content: 'hello' }, { content: '' }] });
    expect(direct.body.validationErrors).toHaveLength(1);
    expectDocumented('/v1/batch', 'post', direct);
    const noneValid = await api(t, key, 'POST', '/v1/batch', { items: [{ content: '' }] });
    expect(noneValid.status).toBe(400);
    expectDocumented('/v1/batch', 'post', noneValid);

    const batchId = created.body.id as string;
    const done = await waitFor(
      () => api(t, key, 'GET', `/v1/batch/${batchId}`),
      (r) => r.body.status === 'completed',
    );
    expectDocumented('/v1/batch/{id}', 'get', done);
    expectDocumented('/v1/batch/{id}', 'get', await api(t, key, 'GET', `/v1/batch/${direct.body.id as string}`));
    expectDocumented('/v1/batches', 'get', await api(t, key, 'GET', '/v1/batches?limit=5'));
    expectDocumented('/v1/batch/{id}/cancel', 'post', await api(t, key, 'POST', `/v1/batch/${batchId}/cancel`));

    const lines = await expectResultLines(key, batchId);
    expect(lines.map((l) => [l.fileId, l.row])).toEqual([
      [fileId, 2],
      [fileId, 4],
    ]);

    expectDocumented('/v1/batch/{id}', 'get', await api(t, key, 'GET', '/v1/batch/b_AAAAAAAAAAAAAAAAAAAAAA'));
    expectDocumented('/v1/batch/{id}', 'get', await api(t, undefined, 'GET', `/v1/batch/${batchId}`));
    expectDocumented('/v1/batches', 'get', await api(t, key, 'GET', '/v1/batches?status=nope'));
    expectDocumented(file, 'delete', await api(t, key, 'DELETE', `/v1/batch/upload/${fileId}`));
    expectDocumented('/v1/batch/upload', 'post', await upload(t, key, 'content\n\n', { name: 'empty.csv' }));
    expectDocumented('/health', 'get', await api(t, undefined, 'GET', '/health'));
    expectDocumented('/ready', 'get', await api(t, undefined, 'GET', '/ready'));
  });

  it('describes several files in one request, fileIds batches and duplicateOf as the service answers them', async () => {
    // The checker tells the two bodies of the upload's 200 apart, and closes the several-file one too.
    const result = validator({ $ref: '#/components/schemas/UploadResult' });
    const several = doc.components.schemas.SeveralUploads.example;
    expect(result(several)).toBe(true);
    expect(result(doc.components.schemas.Upload.example)).toBe(true);
    expect(result({ ...several, files: [{ ...several.files[0], undescribed: 1 }] })).toBe(false);
    expect(result({ ...several, errors: [{ ...several.errors[0], path: undefined }] })).toBe(false);

    const key = t.keys.pro;
    const PDF = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n', 'latin1');
    const csv = `content,externalId\nOnly claim ${Date.now()},o-1\n`;

    // Two file parts, one good and one refused: 200 with each file on its own.
    const two = await uploadMany(key, [
      { name: 'jan/claims.csv', body: 'content,externalId\nJanuary claim,j-1\n,j-2\n' },
      { name: 'feb.pdf', body: PDF, field: 'files' },
    ]);
    expect(two.status).toBe(200);
    expect(two.body).toMatchObject({
      files: [{ index: 0, path: 'jan/claims.csv', originalFileName: 'claims.csv', itemCount: 1, duplicateOf: null }],
      errors: [{ index: 1, originalFileName: 'feb.pdf', path: null, status: 415, validationErrors: [] }],
      message: '2 files: 1 uploaded, 1 refused.',
    });
    expectDocumented('/v1/batch/upload', 'post', two);
    const jan = two.body.files[0].fileId as string;
    expectDocumented('/v1/batch/upload/{fileId}', 'get', await api(t, key, 'GET', `/v1/batch/upload/${jan}`));

    // Every file refused: the first refusal's status and envelope, each refusal in details.files.
    const none = await uploadMany(key, [
      { name: 'x.pdf', body: PDF },
      { name: 'bad/../y.csv', body: 'content\na\n', field: 'file[]' },
    ]);
    expect(none.status).toBe(415);
    expect(none.body.error.details.files.map((f: any) => [f.status, f.error.details?.field])).toEqual([
      [415, undefined],
      [400, 'path'],
    ]);
    expectDocumented('/v1/batch/upload', 'post', none);
    const badPath = await upload(t, key, csv, { fields: { path: '../up.csv' } });
    expect(badPath.body.error.details).toEqual({ field: 'path', path: '../up.csv' });
    expectDocumented('/v1/batch/upload', 'post', badPath);
    const tooMany = await uploadMany(
      key,
      Array.from({ length: 21 }, (_, i) => ({ name: `f${i}.csv`, body: csv })), // pro: maxFilesPerRequest 20
    );
    expect(tooMany.body.error.details).toEqual({ limit: 'maxFilesPerRequest', max: 20 });
    expectDocumented('/v1/batch/upload', 'post', tooMany);

    // The same bytes twice: duplicateOf names the earlier upload (available, then consumed).
    const first = await upload(t, key, csv, { name: 'only.csv', fields: { path: 'inbox/only.csv' } });
    expect(first.body).toMatchObject({ path: 'inbox/only.csv', duplicateOf: null });
    const second = await upload(t, key, csv, { name: 'only.csv' });
    expect(second.body.duplicateOf).toEqual({
      fileId: first.body.fileId,
      status: 'available',
      createdAt: expect.any(String),
    });
    expectDocumented('/v1/batch/upload', 'post', second);
    const view = await api(t, key, 'GET', `/v1/batch/upload/${second.body.fileId as string}`);
    expect(view.body.duplicateOf.fileId).toBe(first.body.fileId);
    expectDocumented('/v1/batch/upload/{fileId}', 'get', view);

    // A batch of fileIds: dry run, 202, the files source, results traced to their upload.
    const fileIds = [jan, first.body.fileId as string];
    const dry = await api(t, key, 'POST', '/v1/batch', { fileIds, dryRun: true });
    expect(dry.body).toMatchObject({ verdict: 'accepted', itemCount: 2, fileIds });
    expectDocumented('/v1/batch', 'post', dry);
    const created = await api(t, key, 'POST', '/v1/batch', { fileIds, name: 'Two files' });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ itemCount: 2, fileIds });
    expect(created.body.fileId).toBeUndefined();
    expectDocumented('/v1/batch', 'post', created);
    const done = await waitFor(
      () => api(t, key, 'GET', `/v1/batch/${created.body.id as string}`),
      (r) => r.body.status === 'completed',
    );
    expect(done.body.source).toEqual({
      type: 'files',
      files: [
        { fileId: jan, originalFileName: 'claims.csv', path: 'jan/claims.csv', itemCount: 1 },
        { fileId: first.body.fileId, originalFileName: 'only.csv', path: 'inbox/only.csv', itemCount: 1 },
      ],
    });
    expectDocumented('/v1/batch/{id}', 'get', done);
    expectDocumented('/v1/batches', 'get', await api(t, key, 'GET', '/v1/batches?limit=5'));
    const lines = await expectResultLines(key, created.body.id as string);
    expect(lines.map((l) => Object.keys(l))).toEqual([
      ['fileId', 'path', 'row', 'status', 'output'],
      ['fileId', 'path', 'row', 'status', 'output'],
    ]);
    expect(lines.map((l) => [l.fileId, l.path, l.row])).toEqual([
      [jan, 'jan/claims.csv', 2],
      [first.body.fileId, 'inbox/only.csv', 2],
    ]);

    // Refusals name the upload that decided them.
    const conflict = await api(t, key, 'POST', '/v1/batch', { fileIds: [second.body.fileId, jan] });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.details).toEqual({ fileId: jan, batchId: created.body.id });
    expectDocumented('/v1/batch', 'post', conflict);
    const unknown = await api(t, key, 'POST', '/v1/batch', { fileIds: ['f_AAAAAAAAAAAAAAAAAAAAAA'] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.details).toEqual({ fileId: 'f_AAAAAAAAAAAAAAAAAAAAAA' });
    expectDocumented('/v1/batch', 'post', unknown);
    const refusedDry = await api(t, key, 'POST', '/v1/batch', { fileIds: [jan], dryRun: true });
    expect(refusedDry.body).toMatchObject({ verdict: 'refused', status: 409, fileIds: [jan] });
    expectDocumented('/v1/batch', 'post', refusedDry);

    // The same bytes again once the latest upload of them is consumed: duplicateOf has its batchId.
    const single = await api(t, key, 'POST', '/v1/batch', { fileId: second.body.fileId });
    expect(single.status).toBe(202);
    const third = await upload(t, key, csv, { name: 'only.csv' });
    expect(third.body.duplicateOf).toEqual({
      fileId: second.body.fileId,
      status: 'consumed',
      batchId: single.body.id,
      createdAt: view.body.createdAt, // when the second upload was made
    });
    expectDocumented('/v1/batch/upload', 'post', third);
    expectDocumented(
      '/v1/batch/upload/{fileId}',
      'get',
      await api(t, key, 'GET', `/v1/batch/upload/${third.body.fileId as string}`),
    );
  });

  it('describes upload sessions as the service answers them, in every state', async () => {
    const key = t.keys.pro;
    const bytes = Buffer.from('content,externalId\nA claim,s-1\n,s-2\n');
    const created = await api(t, key, 'POST', '/v1/uploads', {
      files: [
        {
          filename: 'jan/claims.csv',
          sizeBytes: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        },
        { filename: 'big.csv', sizeBytes: 11 * 1024 * 1024 },
      ],
    });
    expect(created.status).toBe(201);
    expectDocumented('/v1/uploads', 'post', created);
    const s = created.body.data[0];
    const pending = await api(t, key, 'GET', `/v1/uploads/${s.uploadId as string}`);
    expectDocumented('/v1/uploads/{uploadId}', 'get', pending);
    const missing = await api(t, key, 'POST', `/v1/uploads/${s.uploadId as string}/complete`);
    expect(missing.status).toBe(409);
    expectDocumented('/v1/uploads/{uploadId}/complete', 'post', missing);
    const fresh = await api(t, key, 'POST', `/v1/uploads/${s.uploadId as string}/parts`, {});
    expectDocumented('/v1/uploads/{uploadId}/parts', 'post', fresh);
    const put = await fetch(fresh.body.parts[0].url, { method: 'PUT', body: bytes });
    expect(put.status).toBe(200);
    const putBody = await put.json();
    expect(putBody.etag).toBe(put.headers.get('etag'));
    expectDocumented('/v1/uploads/{uploadId}/parts/{partNumber}', 'put', { status: put.status, body: putBody });
    const spoilt = await fetch(fresh.body.parts[0].url.replace(/signature=./, 'signature=_'), {
      method: 'PUT',
      body: bytes,
    });
    expect(spoilt.status).toBe(403);
    expectDocumented('/v1/uploads/{uploadId}/parts/{partNumber}', 'put', {
      status: spoilt.status,
      body: await spoilt.json(),
    });
    const ready = await api(t, key, 'POST', `/v1/uploads/${s.uploadId as string}/complete`, undefined, {
      Prefer: 'wait=30',
    });
    expect(ready.body.status).toBe('ready');
    expectDocumented('/v1/uploads/{uploadId}/complete', 'post', ready);
    const bad = await api(t, key, 'POST', '/v1/uploads', {
      files: [{ filename: 'x.csv', sizeBytes: 11 * 1024 * 1024 }],
    });
    expect(bad.status).toBe(413);
    expectDocumented('/v1/uploads', 'post', bad);
    const failing = await api(t, key, 'POST', '/v1/uploads', {
      files: [{ filename: 'x.csv', sizeBytes: bytes.length, sha256: 'c'.repeat(64) }],
    });
    await fetch(failing.body.data[0].parts[0].url, { method: 'PUT', body: bytes });
    const failed = await api(
      t,
      key,
      'POST',
      `/v1/uploads/${failing.body.data[0].uploadId as string}/complete`,
      undefined,
      {
        Prefer: 'wait=30',
      },
    );
    expect(failed.body.status).toBe('failed');
    expectDocumented('/v1/uploads/{uploadId}/complete', 'post', failed);
  });

  it('gives openapi-typescript types that type a client under strict TypeScript', async () => {
    const documentFile = join(dir, 'docs.json');
    await writeFile(documentFile, JSON.stringify(doc));
    await promisify(execFile)(process.execPath, [
      join(__dirname, 'openapi-types.js'),
      documentFile,
      join(dir, 'batchgate.d.ts'),
    ]);
    const types = await readFile(join(dir, 'batchgate.d.ts'), 'utf8');
    expect(types).toContain('export interface paths');
    expect(types).toContain('ErrorEnvelope: {');

    // A client as a user of the API would write it. The @ts-expect-error lines fail the check if a
    // body came out as `any` or `unknown` (the directive would then be unused).
    const client = `
import type { components, paths } from './batchgate';

type Schemas = components['schemas'];
type UploadAnswer = paths['/v1/batch/upload']['post']['responses'][200]['content']['application/json'];
type UploadState = paths['/v1/batch/upload/{fileId}']['get']['responses'][200]['content']['application/json'];
type BatchAnswer = paths['/v1/batch/{id}']['get']['responses'][200]['content']['application/json'];
type CreateBody = NonNullable<paths['/v1/batch']['post']['requestBody']>['content']['application/json'];
type Created = paths['/v1/batch']['post']['responses'][202]['content']['application/json'];
type Verdict = paths['/v1/batch']['post']['responses'][200]['content']['application/json'];
type Conflict = paths['/v1/batch']['post']['responses'][409]['content']['application/json'];
type ErrorsPage = paths['/v1/batch/upload/{fileId}/errors']['get']['responses'][200]['content']['application/json'];

type Upload = Schemas['Upload'];

export function summary(u: Upload): string {
  const first: Schemas['RowError'] = u.validationErrors[0];
  const where = first.line === undefined ? '' : \` (line \${first.line})\`;
  return \`\${u.fileId}: \${u.itemCount} items; row \${first.row}\${where}: \${first.error} [\${first.field ?? '-'}/\${first.code}]\`;
}

export function encoding(u: Upload): string {
  return u.parsing.encoding + (u.parsing.header ?? []).join(',') + u.errorSummary.map((e) => e.count).join('+');
}

/** One file part answers Upload, several answer SeveralUploads: a client tells them apart by \`files\`. */
export function uploaded(answer: UploadAnswer): Upload[] {
  if (!('files' in answer)) return [answer];
  const refused = answer.errors.map((e) => \`#\${e.index} \${e.path ?? e.originalFileName}: \${e.status} \${e.error.code}\`);
  return answer.files.map((f) => ({ ...f, message: \`#\${f.index} \${f.path ?? ''} \${f.message} \${refused.join('; ')}\` }));
}

export function everyFileRefused(e: Schemas['ErrorEnvelope']): number[] {
  return (e.error.details?.files ?? []).map((f) => f.index + f.validationErrors.length);
}

export function sameBytes(u: UploadState): string {
  const d = u.duplicateOf;
  if (d === null) return \`\${u.fileId} (\${u.path ?? 'no path'}) is new\`;
  return d.status === 'consumed' ? \`already in batch \${d.batchId ?? '?'}\` : \`same as \${d.fileId} of \${d.createdAt}\`;
}

export const isConsumed = (u: UploadState): boolean => u.status === 'consumed' && typeof u.batchId === 'string';

export function progress(b: BatchAnswer): number {
  const done: number = b.processedCount;
  return b.itemCount === 0 ? 1 : done / b.itemCount;
}

export function sourceName(b: Schemas['Batch']): string {
  switch (b.source.type) {
    case 'file':
      return b.source.fileId;
    case 'files':
      return b.source.files.map((f) => \`\${f.path ?? f.originalFileName} (\${f.fileId}, \${f.itemCount})\`).join(', ');
    case 'items':
      return 'direct items';
  }
}

export const fromFile: CreateBody = { fileId: 'f_x', name: 'January claims', metadata: { team: 'ops' } };
export const fromFiles: CreateBody = { fileIds: ['f_a', 'f_b'], name: 'Two files' };
export const fromItems: CreateBody = { items: [{ content: 'hello' }], dryRun: true };

export function queued(c: Created): string {
  const from = c.fileIds?.join('+') ?? c.fileId ?? 'items';
  return \`\${c.id} \${c.status} \${c.itemCount} \${c.createdAt} \${from} \${c.validationErrors?.[0]?.row ?? 0}\`;
}

export const wouldUse = (v: Verdict): number | undefined => v.quota?.wouldUse;

export function explain(e: Conflict): string {
  const envelope: Schemas['ErrorEnvelope'] = e;
  const rows = envelope.validationErrors?.map((r) => r.row).join(',') ?? '';
  const which = envelope.error.details?.fileId ?? '';
  return \`\${envelope.error.code}: \${envelope.error.message} (request \${envelope.requestId}) \${rows} \${which}\`;
}

export const total = (p: ErrorsPage): number => p.meta.total + p.data.length;

type ResultLine = paths['/v1/batch/{id}/results']['get']['responses'][200]['content']['application/x-ndjson'];
export const outcome = (l: ResultLine): string =>
  \`\${l.fileId ?? 'items'}\${l.path === undefined ? '' : \` (\${l.path})\`} \` +
  (l.status === 'failed' ? \`row \${l.row}: \${l.error ?? ''}\` : 'ok');

// @ts-expect-error itemCount is a number
export const wrongType: Upload['itemCount'] = 'many';
// @ts-expect-error duplicateOf may be null
export const notChecked = (u: UploadState): string => u.duplicateOf.fileId;
// @ts-expect-error a files source names its uploads in files, not fileId
export const noFileId = (s: Extract<BatchAnswer['source'], { type: 'files' }>): string => s.fileId;
// @ts-expect-error an answer of several files has no single fileId
export const notNarrowed = (a: UploadAnswer): string => a.fileId;
// @ts-expect-error no such field on a batch
export const noSuchField = (b: BatchAnswer): unknown => b.notAField;
// @ts-expect-error the status is one of the batch statuses
export const wrongStatus: BatchAnswer['status'] = 'done';
// @ts-expect-error an envelope needs its requestId
export const noRequestId: Schemas['ErrorEnvelope'] = { error: { code: 'not_found', message: 'x' } };
`;
    const clientFile = join(dir, 'client.ts');
    await writeFile(clientFile, client);
    const program = ts.createProgram([clientFile], {
      strict: true,
      noEmit: true,
      noUnusedLocals: true,
      exactOptionalPropertyTypes: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      lib: ['lib.es2022.d.ts'],
      types: [],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) =>
      ts.formatDiagnostic(d, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => dir,
        getNewLine: () => '\n',
      }),
    );
    expect(diagnostics).toEqual([]);
  });
});
