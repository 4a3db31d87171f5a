/** Binary sizes, as API.md's plan table: 10 MB = 10 × 1,048,576 bytes. */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [
    [1024 ** 3, 'GB'],
    [1024 ** 2, 'MB'],
    [1024, 'KB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const n = bytes / size;
      return `${Number.isInteger(n) ? n : n.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

/** API.md's 413 sentence, written once: the errors catalogue and the ingest core both say it. */
export function tooLargeSentence(maxBytes: number): string {
  return `File size exceeds maximum of ${formatBytes(maxBytes)}`;
}
