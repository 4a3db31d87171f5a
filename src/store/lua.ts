import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lua scripts live beside this file as .lua (nest-cli copies them into dist). */
export function lua(name: string): string {
  return readFileSync(join(__dirname, 'lua', `${name}.lua`), 'utf8');
}
