/** STORAGE_DRIVER=s3's settings (API.md, Configuration). Credentials come from the AWS SDK's default chain. */
export interface S3Config {
  bucket: string;
  /** Always empty or ending in '/': batchgate reads, writes and deletes nothing outside it. */
  prefix: string;
  region: string;
  /** An S3-compatible store's endpoint; AWS when absent. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** The endpoint presigned URLs name (clients may reach the store at another address). */
  publicEndpoint?: string;
}

/** Thrown with one line naming the variable; the caller wraps it in its ConfigError. */
export class S3ConfigError extends Error {}

// Bucket names as S3 allows them (3-63 lower-case letters, digits, dots and hyphens).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9-]{1,64}$/;

function url(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    if (u.protocol === 'http:' || u.protocol === 'https:') return raw.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  throw new S3ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
}

export function loadS3Config(env: NodeJS.ProcessEnv, bool: (name: string, def: boolean) => boolean): S3Config {
  const bucket = env.S3_BUCKET?.trim();
  if (!bucket) throw new S3ConfigError('S3_BUCKET is required when STORAGE_DRIVER=s3');
  if (!BUCKET.test(bucket)) throw new S3ConfigError(`S3_BUCKET must be a valid bucket name, got "${bucket}"`);
  let prefix = env.S3_PREFIX ?? 'batchgate/';
  prefix = prefix.trim();
  if (
    prefix.startsWith('/') ||
    prefix.includes('\\') ||
    prefix.length > 512 ||
    [...prefix].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) ||
    prefix.split('/').some((s) => s === '.' || s === '..')
  ) {
    throw new S3ConfigError(
      `S3_PREFIX must be a relative key prefix (no leading "/", "..", "\\" or control characters), got "${prefix}"`,
    );
  }
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  const region = env.S3_REGION?.trim() || 'us-east-1';
  if (!REGION.test(region)) throw new S3ConfigError(`S3_REGION must be a region name like us-east-1, got "${region}"`);
  const endpoint = url(env, 'S3_ENDPOINT');
  return {
    bucket,
    prefix,
    region,
    endpoint,
    forcePathStyle: bool('S3_FORCE_PATH_STYLE', false),
    publicEndpoint: url(env, 'S3_PUBLIC_ENDPOINT') ?? endpoint,
  };
}
