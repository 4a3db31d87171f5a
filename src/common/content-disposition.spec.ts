import { attachmentDisposition, rejectedRowsDisposition } from './content-disposition';

/** The two parameters as a client reads them (RFC 6266: filename* wins where understood). */
function parse(header: string): { filename?: string; filenameStar?: string } {
  const plain = /;\s*filename="([^"]*)"/.exec(header);
  const star = /;\s*filename\*=UTF-8''([^;\s]*)/.exec(header);
  return { filename: plain?.[1], filenameStar: star ? decodeURIComponent(star[1]) : undefined };
}

describe('Content-Disposition for downloads', () => {
  it('names the rejected rows after the upload, in both parameters', () => {
    const header = rejectedRowsDisposition('claims.csv');
    expect(header).toBe(`attachment; filename="claims-rejected-rows.csv"; filename*=UTF-8''claims-rejected-rows.csv`);
  });

  it.each(['orders.json', 'orders.ndjson', 'orders.jsonl', 'orders.tsv', 'orders.csv.gz', 'ORDERS.JSON.GZ'])(
    'drops the upload extension of %s',
    (name) => {
      expect(parse(rejectedRowsDisposition(name)).filenameStar).toMatch(/^orders-rejected-rows\.csv$/i);
    },
  );

  it('keeps a UTF-8 name in filename* and gives an ASCII fallback in filename', () => {
    const { filename, filenameStar } = parse(rejectedRowsDisposition('Données clients été 😀.csv'));
    expect(filenameStar).toBe('Données clients été 😀-rejected-rows.csv');
    expect(filename).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(filename).toBe('Donn_es_clients_t_-rejected-rows.csv');
  });

  it('caps a 16 KB name so the header stays small, without splitting a character', () => {
    for (const long of ['a'.repeat(16 * 1024), '😀'.repeat(8 * 1024), 'é'.repeat(16 * 1024)]) {
      const header = rejectedRowsDisposition(`${long}.csv`);
      expect(header.length).toBeLessThan(2048);
      const { filename, filenameStar } = parse(header);
      expect(filenameStar).toMatch(/-rejected-rows\.csv$/);
      expect(filenameStar).not.toContain('\ufffd');
      expect(filename).toMatch(/-rejected-rows\.csv$/);
    }
  });

  it('keeps quotes, CR/LF, controls, path separators and bidi overrides out of the header', () => {
    const header = rejectedRowsDisposition('a"b\r\nSet-Cookie: x=1;\u0000..\\..//evil\u202egpj.csv');
    // eslint-disable-next-line no-control-regex -- control characters are what must not appear
    expect(header).not.toMatch(/[\r\n\u0000]/);
    const { filename, filenameStar } = parse(header);
    expect(filename).not.toMatch(/["\\/;]/);
    // eslint-disable-next-line no-control-regex -- as above
    expect(filenameStar).not.toMatch(/["\\/\r\n\u0000\u202e]/);
    // Only attr-chars and %XX in filename*, so it is one token.
    expect(/filename\*=UTF-8''(\S+)$/.exec(header)![1]).toMatch(/^[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
  });

  it('falls back to a plain name when nothing usable is left', () => {
    expect(parse(rejectedRowsDisposition('.csv')).filenameStar).toBe('upload-rejected-rows.csv');
    expect(parse(rejectedRowsDisposition('   ')).filename).toBe('upload-rejected-rows.csv');
    expect(parse(attachmentDisposition('\u0000\u0001')).filename).toBe('download');
    expect(parse(attachmentDisposition('')).filename).toBe('download');
  });

  it('survives a lone surrogate (encodeURIComponent would throw)', () => {
    expect(parse(attachmentDisposition('bad\ud800name.csv')).filenameStar).toBe('bad\ufffdname.csv');
  });
});
