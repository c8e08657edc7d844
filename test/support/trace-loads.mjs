// Preload (`node --import`) for tests that check which packages a command loads: appends the path
// of every module the process loads to $TRACE_LOADS_FILE. ES modules are seen by a resolve hook
// (which runs in its own thread), CommonJS ones (require, createRequire) by require's cache at exit.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const out = process.env.TRACE_LOADS_FILE;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (resolved.url.startsWith('file:')) appendFileSync(out, `${fileURLToPath(resolved.url)}\n`);
  return resolved;
}

if (isMainThread) {
  register(import.meta.url);
  const required = createRequire(import.meta.url).cache;
  process.on('exit', () =>
    appendFileSync(
      out,
      Object.keys(required)
        .map((path) => `${path}\n`)
        .join(''),
    ),
  );
}
