/** C0 controls and DEL: what a one-line name (a key's name, a claim name) must not hold. */
export function hasControlCharacters(text: string): boolean {
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
