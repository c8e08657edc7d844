import { readFileSync } from 'node:fs';

/** Canon's own version, recorded with every apply. */
export const canonVersion: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;
