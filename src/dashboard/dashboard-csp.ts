import type { AppConfig } from '../config/app-config';

/**
 * Where the dashboard's scripts may send requests (CSP `connect-src`): batchgate itself, and with
 * the s3 driver the object store that upload sessions' presigned part URLs name (API.md, "Upload
 * sessions"): S3_PUBLIC_ENDPOINT (else S3_ENDPOINT), as the SDK builds the URL on it (path style, or
 * the bucket as a subdomain), or AWS's own hosts when neither is set. The store must also allow the
 * dashboard's origin in its CORS rules for a browser's PUT to pass (README).
 */
export function connectSources(config: Pick<AppConfig, 'storageDriver' | 's3'>): string[] {
  const sources = ["'self'"];
  const s3 = config.s3;
  if (config.storageDriver !== 's3' || !s3) return sources;
  const endpoint = s3.publicEndpoint ?? s3.endpoint;
  if (!endpoint) return [...sources, 'https://*.amazonaws.com'];
  const url = new URL(endpoint);
  sources.push(url.origin);
  if (!s3.forcePathStyle) sources.push(`${url.protocol}//${s3.bucket}.${url.host}`);
  return sources;
}

/** The page's Content-Security-Policy: everything from this service, no inline script (issue 4). */
export function dashboardCsp(config: Pick<AppConfig, 'storageDriver' | 's3'>): string {
  return (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
    `connect-src ${connectSources(config).join(' ')}; ` +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
  );
}
