import { join } from 'node:path';

/** Where the CLI keeps parse results of registry files between runs (gitignored with the embedded database). */
export const parseCacheDir = join('.canon', 'cache');
