#!/usr/bin/env node
// The `canon` executable, compiled to dist/cli/bin.js at install (npm's `prepare`). Loads nothing but
// the argument dispatcher: each command imports what it needs when it runs.
import type { CliIO } from './io.ts';

// Stack traces of the compiled JavaScript point into the TypeScript sources when someone asks for
// them; only modules loaded after this line are mapped, hence main's dynamic import.
if (process.env.CANON_DEBUG) process.setSourceMapsEnabled(true);
const { main } = await import('./main.ts');

const prompt: CliIO['prompt'] = process.stdin.isTTY
  ? async (question) => {
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    }
  : undefined;
const io: CliIO = { stdout: process.stdout, stderr: process.stderr, env: process.env, prompt };
process.exitCode = await main(process.argv.slice(2), io);
