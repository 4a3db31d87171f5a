import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';

/** The private s3rver that test/global-setup.js started. */
export function testS3(): { endpoint: string; bucket: string } {
  const endpoint = process.env.BATCHGATE_TEST_S3_ENDPOINT;
  const bucket = process.env.BATCHGATE_TEST_S3_BUCKET;
  if (!endpoint || !bucket) throw new Error('BATCHGATE_TEST_S3_ENDPOINT is not set: run the tests with `npm test`');
  return { endpoint, bucket };
}

/** Environment for an app (or a fleet) on STORAGE_DRIVER=s3 against s3rver, under a prefix of its own. */
export function s3Env(prefix = `t-${randomBytes(4).toString('hex')}/`): Record<string, string> {
  const { endpoint, bucket } = testS3();
  return {
    STORAGE_DRIVER: 's3',
    S3_BUCKET: bucket,
    S3_PREFIX: prefix,
    S3_ENDPOINT: endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    S3_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
}

/** Every key in the store under `prefix`, read from the store itself (not from Redis). */
export async function listStore(prefix: string): Promise<string[]> {
  const { endpoint, bucket } = testS3();
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) keys.push(o.Key!);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  } finally {
    client.destroy();
  }
}
