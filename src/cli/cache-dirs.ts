import { isAbsolute, join } from 'node:path';

/** Where the CLI keeps parse results of registry files between runs (gitignored with the embedded database). */
export const parseCacheDir = join('.canon', 'cache');

/**
 * Where the CLI keeps compiled validators: the user's cache folder, not the working tree. They are
 * code that Canon imports, and a registry checkout is untrusted input: a pull request could commit a
 * module into .canon/cache under the name the next `canon plan` in CI would import. Without a home
 * folder there is no cache, and validators are compiled on every run.
 */
export function validatorCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const candidates = [env.XDG_CACHE_HOME, env.LOCALAPPDATA, env.HOME && join(env.HOME, '.cache')];
  const base = candidates.find((dir) => dir && isAbsolute(dir));
  return base ? join(base, 'canon', 'validators') : undefined;
}
