import { isAbsolute, join } from 'node:path';

/**
 * The user's cache folder for Canon, never the working tree: a registry checkout is untrusted input.
 * A pull request could commit files into `.canon/cache` (git add -f ignores .gitignore) under the
 * names the next `canon plan` in CI reads: validators are code Canon imports, and parse results keyed
 * by a file's content hash would make plan and apply see other content than the YAML reviewers read.
 * Without a home folder there is no cache, and everything is parsed and compiled on every run.
 */
function userCacheDir(env: NodeJS.ProcessEnv, kind: string): string | undefined {
  const candidates = [env.XDG_CACHE_HOME, env.LOCALAPPDATA, env.HOME && join(env.HOME, '.cache')];
  const base = candidates.find((dir) => dir && isAbsolute(dir));
  return base ? join(base, 'canon', kind) : undefined;
}

/** Where the CLI keeps compiled validators between runs. */
export const validatorCacheDir = (env: NodeJS.ProcessEnv) => userCacheDir(env, 'validators');

/** Where the CLI keeps parse results of registry files between runs (see userCacheDir for why not .canon/). */
export const parseCacheDir = userCacheDir(process.env, 'parse');
