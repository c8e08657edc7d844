import type { ErrorObject } from 'ajv';
import { codes, type DiagnosticCode } from '../diagnostics/codes.ts';
import { didYouMean } from '../diagnostics/suggest.ts';

export type Segment = string | number;

/** `industries[0].primary`: how a path reads in a message. */
export function describePath(path: readonly Segment[]): string {
  let out = '';
  for (const segment of path)
    out += typeof segment === 'number' ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  return out || 'the document';
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string '${value.length > 40 ? value.slice(0, 37) + '…' : value}'`;
  const kind = typeof value === 'number' ? 'the number' : typeof value === 'boolean' ? 'the boolean' : typeof value;
  return `${kind} ${String(value)}`;
}

const typeNames: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

const formatHints: Record<string, string> = {
  date: 'a date written YYYY-MM-DD',
  uuid: 'a UUID such as 6f1c2a9e-3b7d-4c1e-9a2f-0d5e8b7c4a31',
  uri: 'an absolute URL such as https://example.com/docs',
};

export interface Translated {
  code: DiagnosticCode;
  message: string;
  /** Extra path segment to point at (the unknown key itself). */
  at?: Segment;
  pointAtKey?: boolean;
}

/** One ajv error → what the author needs to read. */
export function translate(error: ErrorObject, path: readonly Segment[]): Translated {
  const field = describePath(path);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = Object.keys(((error.parentSchema as { properties?: object }) ?? {}).properties ?? {});
      const where = path.length === 0 ? '' : ` in ${field}`;
      const hint = didYouMean(name, allowed) || (allowed.length > 0 ? ` Allowed here: ${allowed.join(', ')}.` : '');
      return {
        code: codes.unknownField,
        message: `unknown field '${name}'${where}.${hint}`,
        at: name,
        pointAtKey: true,
      };
    }
    case 'required': {
      const where = path.length ? ` in ${field}` : '';
      return {
        code: codes.missingField,
        message: `missing required field '${String(params.missingProperty)}'${where}; add it`,
      };
    }
    case 'type': {
      const expected =
        params.type === 'string,object'
          ? 'an id or a mapping'
          : String(params.type)
              .split(',')
              .map((t) => typeNames[t] ?? t)
              .join(' or ');
      return { code: codes.wrongType, message: `${field} must be ${expected}, not ${describeValue(error.data)}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const hint = typeof error.data === 'string' ? didYouMean(error.data, allowed) : '';
      return {
        code: codes.valueNotAllowed,
        message: `${field} cannot be ${describeValue(error.data)}.${hint} Allowed: ${allowed.join(', ')}.`,
      };
    }
    case 'const':
      return {
        code: codes.valueNotAllowed,
        message: `${field} must be ${JSON.stringify(params.allowedValue)}, not ${describeValue(error.data)}`,
      };
    case 'maxLength':
      return {
        code: codes.outOfRange,
        // Characters as JSON Schema and PostgreSQL count them (code points), not UTF-16 units.
        message:
          `${field} is ${[...(error.data as string)].length} characters long; ` +
          `the limit is ${String(params.limit)}`,
      };
    case 'minLength':
      return { code: codes.outOfRange, message: `${field} must not be empty` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const bound = error.keyword.endsWith('inimum') ? 'at least' : 'at most';
      return {
        code: codes.outOfRange,
        message: `${field} must be ${bound} ${String(params.limit)}, not ${String(error.data)}`,
      };
    }
    case 'minItems':
    case 'maxItems':
      return { code: codes.outOfRange, message: `${field} ${error.message ?? 'has the wrong number of items'}` };
    case 'uniqueItems':
      return {
        code: codes.duplicateRelationEntry,
        message: `${field} lists the same value twice (items ${String(params.j)} and ${String(params.i)}); remove one`,
      };
    case 'pattern':
      return {
        code: codes.badFormat,
        message:
          `${field} cannot be ${describeValue(error.data)}: ` +
          "an id uses lowercase letters, digits, '.', '_' and '-', and starts with a letter or digit",
      };
    case 'format':
      return {
        code: codes.badFormat,
        message:
          `${field} must be ${formatHints[String(params.format)] ?? String(params.format)}, ` +
          `not ${describeValue(error.data)}`,
      };
    default:
      return { code: codes.schemaViolation, message: `${field} ${error.message ?? 'is not valid'}` };
  }
}
