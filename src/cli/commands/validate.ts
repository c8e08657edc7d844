import { hasErrors } from '../../diagnostics/diagnostic.ts';
import { checkRegistryAsync } from '../../pipeline/check.ts';
import { renderValidationJson, renderValidationText, summarize } from '../../render/diagnostics.ts';
import { renderValidationGithub } from '../../render/github.ts';
import { styleFor } from '../../render/style.ts';
import { cachedValidators } from '../../validate/compiled-cache.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { parseCacheDir, validatorCacheDir } from '../cache-dirs.ts';
import { type CliIO, exitCodes } from '../io.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';

export const validateCommand: Command = {
  usage: `Usage: canon validate [--dir registry] [--format text|json|github] [--detailed-exitcode]

Loads every .yaml/.yml file under the registry folder, validates each document against its kind's
JSON Schema, resolves references between assets and checks the settings file canon.yaml. Prints every problem as
  path:line:col: error CODE: message
sorted by file and position.

Options:
  --dir <folder>        the registry folder (default: registry)
  --format text|json|github  output format (default: text); json is versioned (format_version);
                        github prints workflow commands, which GitHub Actions shows as annotations
                        on the files (paths relative to $GITHUB_WORKSPACE when it is set)
  --detailed-exitcode   exit 2 when there are warnings but no errors (0 clean, 1 errors)
  --schemas <folder>    the kind schemas (default: ./schemas, else Canon's own)
  -h, --help            show this help

Exit status: 0 when there are no errors (warnings allowed), 1 otherwise; with --detailed-exitcode,
0 clean, 1 errors, 2 warnings only.`,
  async run(args: string[], io: CliIO) {
    const { values } = parseCommandArgs('validate', args, {
      dir: { type: 'string', default: 'registry' },
      format: { type: 'string' },
      schemas: { type: 'string' },
      'detailed-exitcode': { type: 'boolean', default: false },
    });
    const format = oneOf('validate', 'format', values.format, ['text', 'json', 'github'] as const, 'text');
    const catalog = catalogFor(values.schemas);
    const validators = await cachedValidators(catalog, validatorCacheDir(io.env));
    const result = await checkRegistryAsync(values.dir!, catalog, { cacheDir: parseCacheDir, validators });
    const diagnostics = result.diagnostics;
    const summary = summarize(diagnostics, result.files, result.graph.assets.length);
    const githubPaths = { cwd: process.cwd(), workspace: io.env.GITHUB_WORKSPACE };
    const render = {
      text: () => renderValidationText(diagnostics, summary, styleFor(io.stdout, io.env)),
      json: () => renderValidationJson(diagnostics, summary),
      github: () => renderValidationGithub(diagnostics, summary, githubPaths),
    };
    io.stdout.write(render[format]());
    if (hasErrors(diagnostics)) return exitCodes.error;
    return values['detailed-exitcode'] && diagnostics.length > 0 ? exitCodes.warnings : exitCodes.ok;
  },
};
