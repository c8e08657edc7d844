import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { codes, type DiagnosticCode } from '../diagnostics/codes.ts';
import { error, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/suggest.ts';
import { isMapping, locate, type SourceDocument } from '../load/document.ts';
import { configFileName, displayPath } from '../load/load.ts';
import { defaultLimits, parseRegistryFile, type ParseLimits } from '../load/parse.ts';
import { readSourceFile } from '../load/read.ts';
import { defaultTenancy, type TenancyOptions } from '../policies/model.ts';

export { configFileName };

export interface CanonConfig {
  embeddings: { enabled: boolean; dimensions: number; model: string };
  tenancy: TenancyOptions;
}

export const defaultConfig: CanonConfig = { embeddings: { enabled: true, dimensions: 1536, model: 'text-embedding-3-small' }, tenancy: defaultTenancy };


/** The settings of the registry in `dir`, read with the same limits as its asset files. */
export function loadConfig(
  dir: string, root = process.cwd(), limits: ParseLimits = defaultLimits,
): { config: CanonConfig; diagnostics: Diagnostic[] } {
  const path = join(dir, configFileName);
  if (!isPresent(path)) return { config: defaultConfig, diagnostics: [] };
  const file = displayPath(path, root);
  const read = readSourceFile(path, file, limits);
  if (read.problem) return { config: defaultConfig, diagnostics: [read.problem] };
  const parsed = parseRegistryFile(file, read.bytes, limits);
  const doc = parsed.documents[0];
  const diagnostics = [...parsed.diagnostics];
  if (!doc || !isMapping(doc.value)) return { config: defaultConfig, diagnostics };
  const config: CanonConfig = { embeddings: { ...defaultConfig.embeddings }, tenancy: { ...defaultConfig.tenancy } };
  const problem = (path: (string | number)[], message: string, code: DiagnosticCode = codes.wrongType) =>
    diagnostics.push(error(code, locate(doc, path, code === codes.unknownField ? 'key' : 'value'), message));
  checkKeys(doc, [], doc.value, ['embeddings', 'tenancy'], problem);
  const tenancy = doc.value.tenancy;
  if (tenancy !== undefined) {
    if (!isMapping(tenancy)) problem(['tenancy'], 'tenancy must be a mapping with mode, setting, claim and app_role');
    else {
      checkKeys(doc, ['tenancy'], tenancy, ['mode', 'setting', 'claim', 'app_role'], problem);
      if (tenancy.mode !== undefined) {
        if (tenancy.mode === 'session' || tenancy.mode === 'supabase') config.tenancy.mode = tenancy.mode;
        else problem(['tenancy', 'mode'], "tenancy.mode must be 'session' (a setting holds the tenant) or 'supabase' (the JWT's claims do)", codes.valueNotAllowed);
      }
      const name = (key: 'setting' | 'claim' | 'app_role', pattern: RegExp, hint: string) => {
        const v = tenancy[key];
        if (v === undefined) return undefined;
        if (typeof v === 'string' && pattern.test(v)) return v;
        problem(['tenancy', key], `tenancy.${key} must be ${hint}`, codes.badFormat);
        return undefined;
      };
      config.tenancy.setting = name('setting', /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/, 'a custom setting name with a dot, such as app.current_tenant_id') ?? config.tenancy.setting;
      config.tenancy.claim = name('claim', /^[A-Za-z_][A-Za-z0-9_]*$/, 'a claim name such as tenant_id') ?? config.tenancy.claim;
      config.tenancy.appRole = name('app_role', /^[a-z_][a-z0-9_]*$/, 'a role name such as canon_app (or authenticated on Supabase)') ?? config.tenancy.appRole;
    }
  }
  const embeddings = doc.value.embeddings;
  if (embeddings !== undefined) {
    if (!isMapping(embeddings)) problem(['embeddings'], 'embeddings must be a mapping with enabled, dimensions and model');
    else {
      checkKeys(doc, ['embeddings'], embeddings, ['enabled', 'dimensions', 'model'], problem);
      if (embeddings.enabled !== undefined) {
        if (typeof embeddings.enabled === 'boolean') config.embeddings.enabled = embeddings.enabled;
        else problem(['embeddings', 'enabled'], 'embeddings.enabled must be true or false');
      }
      if (embeddings.dimensions !== undefined) {
        const d = embeddings.dimensions;
        if (Number.isInteger(d) && (d as number) >= 1 && (d as number) <= 16000) config.embeddings.dimensions = d as number;
        else problem(['embeddings', 'dimensions'], 'embeddings.dimensions must be a whole number from 1 to 16000 (pgvector’s limit)', codes.outOfRange);
      }
      if (embeddings.model !== undefined) {
        if (typeof embeddings.model === 'string' && embeddings.model !== '') config.embeddings.model = embeddings.model;
        else problem(['embeddings', 'model'], 'embeddings.model must be a model name');
      }
    }
  }
  return { config, diagnostics };
}

function checkKeys(_doc: SourceDocument, at: string[], value: Record<string, unknown>, allowed: string[], problem: (path: (string | number)[], message: string, code?: DiagnosticCode) => void) {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problem([...at, key], `unknown setting '${key}' in ${configFileName}.${didYouMean(key, allowed) || ` Known: ${allowed.join(', ')}.`}`, codes.unknownField);
  }
}

/**
 * Whether anything is at `path`, a dangling symbolic link included (any error but "no such file"
 * says yes, and reading the file then reports the error).
 */
function isPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
