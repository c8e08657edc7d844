import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Lives in test/ because the repository's top level is fixed; the root is the repository.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Builds dist/ (the CLI that tests spawn) once per run (test/support/built-cli.ts), and fails the
    // run when tests leave temporary folders behind (test/support/global-setup.ts).
    globalSetup: ['test/support/built-cli.ts', 'test/support/global-setup.ts'],
    pool: 'forks',
    // Vitest's default leaves a core idle (one worker on two cores); the database files wait on
    // PostgreSQL and on child processes often enough that every core can run a file.
    maxWorkers: Math.max(2, availableParallelism()),
    // Guards against hangs, not speed goals (those are benchmarks): generous, as CI machines are shared.
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
