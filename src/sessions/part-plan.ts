const MiB = 1024 * 1024;
/** API.md: one PUT up to 16 MiB, else multipart. */
export const SINGLE_PUT_MAX_BYTES = 16 * MiB;
/** At least 8 MiB (API.md); 16 MiB unless the file needs bigger parts to stay within 10,000. */
const DEFAULT_PART_BYTES = 16 * MiB;
export const MAX_PARTS = 10_000;

export interface PartPlan {
  method: 'put' | 'multipart';
  partSize: number;
  partCount: number;
}

/** How a file of `sizeBytes` is cut: every part but the last exactly `partSize`. */
export function planParts(sizeBytes: number): PartPlan {
  if (sizeBytes <= SINGLE_PUT_MAX_BYTES) return { method: 'put', partSize: sizeBytes, partCount: 1 };
  const needed = Math.ceil(sizeBytes / MAX_PARTS / MiB) * MiB;
  const partSize = Math.max(DEFAULT_PART_BYTES, needed);
  return { method: 'multipart', partSize, partCount: Math.ceil(sizeBytes / partSize) };
}
