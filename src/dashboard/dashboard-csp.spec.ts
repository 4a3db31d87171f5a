import { connectSources, dashboardCsp } from './dashboard-csp';

const s3 = (over: Record<string, unknown> = {}) => ({
  bucket: 'intake',
  prefix: 'batchgate/',
  region: 'eu-west-1',
  forcePathStyle: false,
  ...over,
});

describe('dashboard CSP', () => {
  it("lets the page talk to batchgate only, with the local and none drivers (part URLs are batchgate's own)", () => {
    expect(connectSources({ storageDriver: 'local' })).toEqual(["'self'"]);
    expect(connectSources({ storageDriver: 'none' })).toEqual(["'self'"]);
    expect(dashboardCsp({ storageDriver: 'local' })).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('adds the store that presigned part URLs name with the s3 driver', () => {
    expect(
      connectSources({
        storageDriver: 's3',
        s3: s3({ endpoint: 'http://minio:9000', publicEndpoint: 'https://files.example.com', forcePathStyle: true }),
      }),
    ).toEqual(["'self'", 'https://files.example.com']);
    expect(connectSources({ storageDriver: 's3', s3: s3({ endpoint: 'https://r2.example.com/' }) })).toEqual([
      "'self'",
      'https://r2.example.com',
      'https://intake.r2.example.com',
    ]);
    expect(connectSources({ storageDriver: 's3', s3: s3() })).toEqual(["'self'", 'https://*.amazonaws.com']);
    expect(dashboardCsp({ storageDriver: 's3', s3: s3() })).toContain("connect-src 'self' https://*.amazonaws.com; ");
  });
});
