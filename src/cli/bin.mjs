#!/usr/bin/env node
// The `canon` executable. Canon ships as TypeScript run through tsx, so there is no build step
// between a checkout and a working CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
const prompt = process.stdin.isTTY
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
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, prompt });
