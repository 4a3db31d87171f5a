import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a local-driver part URL vouches for: this part of this upload, of this size, until then. */
export interface SignedPart {
  orgId: string;
  uploadId: string;
  partNumber: number;
  sizeBytes: number;
  /** Unix seconds. */
  expires: number;
}

function mac(secret: string, p: SignedPart): Buffer {
  // Fields joined by a byte none of them can hold, so no two different parts sign the same text.
  return createHmac('sha256', secret)
    .update([p.orgId, p.uploadId, p.partNumber, p.sizeBytes, p.expires].join('\n'))
    .digest();
}

export function signPart(secret: string, part: SignedPart): string {
  return mac(secret, part).toString('base64url');
}

/** 'ok', or why the URL is refused: a signature not made by this service for this part, or past its time. */
export function verifyPart(
  secret: string,
  part: SignedPart,
  signature: string,
  nowMs: number,
): 'ok' | 'invalid' | 'expired' {
  // Compared as text: base64url's spare bits mean two different strings can decode to the same bytes.
  const given = Buffer.from(signature, 'utf8');
  const expected = Buffer.from(mac(secret, part).toString('base64url'), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return nowMs > part.expires * 1000 ? 'expired' : 'ok';
}
