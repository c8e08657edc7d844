import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateTypes } from '../../typegen/typegen.ts';
import { parseCommandArgs } from '../args.ts';
import { type CliIO, exitCodes } from '../io.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';

export const typesCommand: Command = {
  usage: `Usage: canon types [--out generated/registry.ts] [--check]

Compiles the kind schemas into TypeScript declarations with json-schema-to-typescript.

Options:
  --out <file>          where to write (default: generated/registry.ts)
  --check               write nothing; exit 1 when the file is missing or stale
  --schemas <folder>    the kind schemas (default: ./schemas, else Canon's own)
  -h, --help            show this help`,
  async run(args: string[], io: CliIO) {
    const { values } = parseCommandArgs('types', args, {
      out: { type: 'string', default: 'generated/registry.ts' },
      check: { type: 'boolean', default: false },
      schemas: { type: 'string' },
    });
    const out = values.out!;
    const generated = await generateTypes(catalogFor(values.schemas));
    if (values.check) {
      let current = '';
      try {
        current = readFileSync(out, 'utf8');
      } catch {
        /* missing counts as stale */
      }
      if (current === generated) {
        io.stdout.write(`${out} is up to date\n`);
        return exitCodes.ok;
      }
      io.stderr.write(`${out} is stale: run 'npm run types' and commit the result\n`);
      return exitCodes.error;
    }
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, generated);
    io.stdout.write(`wrote ${out}\n`);
    return exitCodes.ok;
  },
};
