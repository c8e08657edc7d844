import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { schemaNameProblem } from '../db/search-path.ts';
import { codes, type DiagnosticCode } from '../diagnostics/codes.ts';
import { type Diagnostic, error } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/suggest.ts';
import { type ChunkSettings, defaultChunkSettings } from '../embed/chunk.ts';
import { isMapping, locate, type SourceDocument } from '../load/document.ts';
import { configFileName, displayPath } from '../load/load.ts';
import { defaultLimits, type ParseLimits, parseRegistryFile } from '../load/parse.ts';
import { readSourceFile } from '../load/read.ts';
import { defaultTenancy, type TenancyOptions } from '../policies/model.ts';

export { configFileName };

export interface EmbeddingSettings {
  enabled: boolean;
  dimensions: number;
  model: string;
  /** `openai`: any OpenAI-compatible /embeddings endpoint; `local`: a model that runs in-process, offline. */
  provider: 'openai' | 'local';
  /** The OpenAI-compatible API's base URL (…/v1). */
  baseUrl: string;
  /** The NAME of the environment variable holding the API key; the key itself is never in a file. */
  apiKeyEnv: string;
}

export interface CanonConfig {
  /** The PostgreSQL schema Canon's tables, functions, policies and views go into; absent: current_schema(). */
  schema?: string;
  embeddings: EmbeddingSettings;
  chunking: ChunkSettings;
  tenancy: TenancyOptions;
}

export const defaultConfig: CanonConfig = {
  embeddings: {
    enabled: true,
    dimensions: 1536,
    model: 'text-embedding-3-small',
    provider: 'openai',
    baseUrl: 'https://api.openai.com/v1',
    apiKeyEnv: 'OPENAI_API_KEY',
  },
  chunking: defaultChunkSettings,
  tenancy: defaultTenancy,
};

/** The settings of the registry in `dir`, read with the same limits as its asset files. */
export function loadConfig(
  dir: string,
  root = process.cwd(),
  limits: ParseLimits = defaultLimits,
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
  const config: CanonConfig = {
    embeddings: { ...defaultConfig.embeddings },
    chunking: { ...defaultConfig.chunking },
    tenancy: { ...defaultConfig.tenancy },
  };
  const problem = (path: (string | number)[], message: string, code: DiagnosticCode = codes.wrongType) =>
    diagnostics.push(error(code, locate(doc, path, code === codes.unknownField ? 'key' : 'value'), message));
  checkKeys(doc, [], doc.value, ['schema', 'embeddings', 'chunking', 'tenancy'], problem);
  if (doc.value.schema !== undefined) {
    const name = doc.value.schema;
    const wrong = typeof name === 'string' ? schemaNameProblem(name) : 'must be a string';
    if (wrong === undefined) config.schema = name as string;
    else problem(['schema'], `schema ${wrong}: name a PostgreSQL schema such as registry`, codes.badFormat);
  }
  const tenancy = doc.value.tenancy;
  if (tenancy !== undefined) {
    if (!isMapping(tenancy)) problem(['tenancy'], 'tenancy must be a mapping with mode, setting, claim and app_role');
    else {
      checkKeys(doc, ['tenancy'], tenancy, ['mode', 'setting', 'claim', 'app_role'], problem);
      if (tenancy.mode !== undefined) {
        if (tenancy.mode === 'session' || tenancy.mode === 'supabase') config.tenancy.mode = tenancy.mode;
        else
          problem(
            ['tenancy', 'mode'],
            "tenancy.mode must be 'session' (a setting holds the tenant) or 'supabase' (the JWT's claims do)",
            codes.valueNotAllowed,
          );
      }
      const name = (key: 'setting' | 'claim' | 'app_role', pattern: RegExp, hint: string) => {
        const v = tenancy[key];
        if (v === undefined) return undefined;
        if (typeof v === 'string' && pattern.test(v)) return v;
        problem(['tenancy', key], `tenancy.${key} must be ${hint}`, codes.badFormat);
        return undefined;
      };
      config.tenancy.setting =
        name(
          'setting',
          /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/,
          'a custom setting name with a dot, such as app.current_tenant_id',
        ) ?? config.tenancy.setting;
      config.tenancy.claim =
        name('claim', /^[A-Za-z_][A-Za-z0-9_]*$/, 'a claim name such as tenant_id') ?? config.tenancy.claim;
      config.tenancy.appRole =
        name('app_role', /^[a-z_][a-z0-9_]*$/, 'a role name such as canon_app (or authenticated on Supabase)') ??
        config.tenancy.appRole;
    }
  }
  const embeddings = doc.value.embeddings;
  if (embeddings !== undefined) {
    if (!isMapping(embeddings))
      problem(['embeddings'], 'embeddings must be a mapping with enabled, dimensions and model');
    else {
      const keys = ['enabled', 'dimensions', 'model', 'provider', 'base_url', 'api_key_env'];
      checkKeys(doc, ['embeddings'], embeddings, keys, problem);
      if (embeddings.enabled !== undefined) {
        if (typeof embeddings.enabled === 'boolean') config.embeddings.enabled = embeddings.enabled;
        else problem(['embeddings', 'enabled'], 'embeddings.enabled must be true or false');
      }
      if (embeddings.dimensions !== undefined) {
        const d = embeddings.dimensions;
        if (Number.isInteger(d) && (d as number) >= 1 && (d as number) <= 16000)
          config.embeddings.dimensions = d as number;
        else
          problem(
            ['embeddings', 'dimensions'],
            'embeddings.dimensions must be a whole number from 1 to 16000 (pgvector’s limit)',
            codes.outOfRange,
          );
      }
      if (embeddings.model !== undefined) {
        if (typeof embeddings.model === 'string' && embeddings.model !== '') config.embeddings.model = embeddings.model;
        else problem(['embeddings', 'model'], 'embeddings.model must be a model name');
      }
      readProviderSettings(embeddings, config.embeddings, problem);
    }
  }
  const chunking = doc.value.chunking;
  if (chunking !== undefined) {
    if (!isMapping(chunking)) problem(['chunking'], 'chunking must be a mapping with max_tokens and overlap');
    else readChunking(doc, chunking, config.chunking, problem);
  }
  return { config, diagnostics };
}

function checkKeys(
  _doc: SourceDocument,
  at: string[],
  value: Record<string, unknown>,
  allowed: string[],
  problem: (path: (string | number)[], message: string, code?: DiagnosticCode) => void,
) {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      problem(
        [...at, key],
        `unknown setting '${key}' in ${configFileName}.${didYouMean(key, allowed) || ` Known: ${allowed.join(', ')}.`}`,
        codes.unknownField,
      );
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

type Problem = (path: (string | number)[], message: string, code?: DiagnosticCode) => void;

function readProviderSettings(raw: Record<string, unknown>, into: EmbeddingSettings, problem: Problem) {
  if (raw.provider !== undefined) {
    if (raw.provider === 'openai' || raw.provider === 'local') into.provider = raw.provider;
    else {
      const hint = "'openai' (any OpenAI-compatible /v1/embeddings endpoint) or 'local' (offline, in-process)";
      problem(['embeddings', 'provider'], `embeddings.provider must be ${hint}`, codes.valueNotAllowed);
    }
  }
  if (raw.base_url !== undefined) {
    let url: URL | undefined;
    try {
      url = typeof raw.base_url === 'string' ? new URL(raw.base_url) : undefined;
    } catch {
      /* reported below */
    }
    if (url && (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password) {
      into.baseUrl = raw.base_url as string;
    } else {
      const hint =
        'an http(s) URL without credentials, such as https://api.openai.com/v1 (the key comes from api_key_env)';
      problem(['embeddings', 'base_url'], `embeddings.base_url must be ${hint}`, codes.badFormat);
    }
  }
  if (raw.api_key_env !== undefined) {
    const name = raw.api_key_env;
    if (typeof name === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) into.apiKeyEnv = name;
    else {
      const hint = 'the NAME of an environment variable, such as OPENAI_API_KEY (never the key itself)';
      problem(['embeddings', 'api_key_env'], `embeddings.api_key_env must be ${hint}`, codes.badFormat);
    }
  }
}

function readChunking(doc: SourceDocument, raw: Record<string, unknown>, into: ChunkSettings, problem: Problem) {
  checkKeys(doc, ['chunking'], raw, ['max_tokens', 'overlap'], problem);
  const whole = (v: unknown): v is number => Number.isInteger(v);
  if (raw.max_tokens !== undefined) {
    if (whole(raw.max_tokens) && raw.max_tokens >= 16 && raw.max_tokens <= 8192) into.maxTokens = raw.max_tokens;
    else {
      problem(
        ['chunking', 'max_tokens'],
        'chunking.max_tokens must be a whole number from 16 to 8192',
        codes.outOfRange,
      );
    }
  }
  // An overlap left at its default follows a smaller budget down rather than failing.
  if (raw.overlap === undefined) into.overlap = Math.min(into.overlap, Math.floor(into.maxTokens / 2));
  else {
    if (whole(raw.overlap) && raw.overlap >= 0 && raw.overlap <= into.maxTokens / 2) into.overlap = raw.overlap;
    else {
      const half = Math.floor(into.maxTokens / 2);
      const message = `chunking.overlap must be a whole number from 0 to half of max_tokens (${half})`;
      problem(['chunking', 'overlap'], message, codes.outOfRange);
    }
  }
}
