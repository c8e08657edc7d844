import { codes, type DiagnosticCode } from '../diagnostics/codes.ts';
import { type Diagnostic, error } from '../diagnostics/diagnostic.ts';
import type { ColumnModel, KindModel } from '../kinds/model.ts';
import { formatSqlType, type SqlType } from '../kinds/sql-type.ts';
import { isMapping, locate, type SourceDocument, type ValuePath } from '../load/document.ts';
import { describePath } from './messages.ts';

/**
 * What JSON Schema admits but the column refuses, checked against the column's SQL type: the schema
 * may be looser than PostgreSQL (a `uuid` format that allows `urn:uuid:`, a `date` format that
 * allows year 0, a number with more decimals than `numeric(10,2)` keeps, `.inf` in a JSON value).
 * Without these checks such a value passes validate and then fails apply (or is stored other than
 * written). Each problem is located and says how to fix it.
 */
export function columnFitProblems(doc: SourceDocument, model: KindModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const value = doc.value;
  if (!isMapping(value)) return out;
  const report = (path: ValuePath, code: DiagnosticCode, message: string) =>
    out.push(error(code, locate(doc, path), `${printable(describePath(path))}: ${message}`));
  for (const column of model.columns) checkColumn(value[column.property], [column.property], column, report);
  for (const relation of model.relations) {
    const items = value[relation.property];
    if (!Array.isArray(items)) continue;
    items.forEach((item, i) => {
      if (!isMapping(item)) return;
      for (const column of relation.columns)
        checkColumn(item[column.property], [relation.property, i, column.property], column, report);
    });
  }
  if (typeof value.uuid === 'string' && !uuidPattern.test(value.uuid))
    report(['uuid'], codes.badFormat, `'${value.uuid}' is not a UUID PostgreSQL stores; ${uuidHint(value.uuid)}`);
  return out;
}

type Report = (path: ValuePath, code: DiagnosticCode, message: string) => void;

/** The form PostgreSQL's uuid input reads (it also takes braces and no hyphens; Canon asks for this one). */
const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const uuidHint = (text: string) =>
  /^urn:uuid:/i.test(text)
    ? `write it without the 'urn:uuid:' prefix: ${text.slice(9)}`
    : 'write it as 8-4-4-4-12 hexadecimal digits, such as 6f1c2a9e-3b7d-4c1e-9a2f-0d5e8b7c4a31';

function checkColumn(value: unknown, path: ValuePath, column: ColumnModel, report: Report) {
  if (value === undefined || value === null) return;
  const type = column.type;
  if (!type.array) return checkScalar(value, path, type, report);
  if (!Array.isArray(value)) return;
  const element = { ...type, array: false } as SqlType;
  value.forEach((item, i) => {
    if (item === null) report([...path, i], codes.wrongType, 'a list item is empty (null); remove it or write a value');
    else checkScalar(item, [...path, i], element, report);
  });
}

const int32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const int64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

function checkScalar(value: unknown, path: ValuePath, type: SqlType, report: Report) {
  const sqlType = formatSqlType(type);
  switch (type.name) {
    case 'text':
    case 'varchar':
      if (typeof value !== 'string') return;
      checkString(value, path, report);
      if (type.name === 'varchar') {
        // PostgreSQL counts characters (code points); a JavaScript length counts UTF-16 units.
        const characters = codePoints(value);
        if (characters > type.length)
          report(
            path,
            codes.outOfRange,
            `${characters} characters, but the column (${sqlType}) holds at most ${type.length}; shorten it`,
          );
      }
      return;
    case 'integer':
    case 'bigint': {
      if (typeof value !== 'number' && typeof value !== 'bigint') return;
      if (typeof value === 'number' && !Number.isInteger(value)) return; // the schema's type check says so
      const big = BigInt(value);
      const [min, max] = type.name === 'integer' ? [BigInt(int32.min), BigInt(int32.max)] : [int64.min, int64.max];
      if (big < min || big > max)
        report(
          path,
          codes.outOfRange,
          `${big} does not fit the column (${sqlType}: ${min} to ${max}); use a smaller number`,
        );
      else if (!Number.isSafeInteger(Number(big)) || typeof value === 'bigint')
        report(
          path,
          codes.outOfRange,
          `${big} is beyond ±${Number.MAX_SAFE_INTEGER}, ` +
            `which Canon carries exactly in ${sqlType} columns; use a smaller number`,
        );
      return;
    }
    case 'numeric':
      if (typeof value === 'number') checkNumeric(value, path, type, report);
      else if (typeof value === 'bigint')
        report(path, codes.outOfRange, `${value} has more digits than the column (${sqlType}) holds`);
      return;
    case 'date':
      if (typeof value === 'string' && !isDate(value))
        report(
          path,
          codes.badFormat,
          `'${value}' is not a date PostgreSQL stores; ` +
            'write a real calendar date YYYY-MM-DD between 0001-01-01 and 9999-12-31',
        );
      return;
    case 'timestamptz':
      if (typeof value === 'string' && !isTimestamp(value))
        report(
          path,
          codes.badFormat,
          `'${value}' is not a timestamp PostgreSQL stores; ` +
            'write it as YYYY-MM-DDTHH:MM:SS with a time zone (Z or +01:00)',
        );
      return;
    case 'uuid':
      if (typeof value === 'string' && !uuidPattern.test(value))
        report(path, codes.badFormat, `'${value}' is not a UUID PostgreSQL stores; ${uuidHint(value)}`);
      return;
    case 'jsonb':
      checkJson(value, path, report);
      return;
    default:
      return;
  }
}

function checkNumeric(value: number, path: ValuePath, type: SqlType & { name: 'numeric' }, report: Report) {
  const sqlType = formatSqlType(type);
  if (!Number.isFinite(value)) {
    report(path, codes.wrongType, `${value} is not a number the column (${sqlType}) stores; write a finite number`);
    return;
  }
  const { integerDigits, decimals, significant } = digitsOf(value);
  if (decimals > type.scale)
    report(
      path,
      codes.outOfRange,
      `${value} has ${decimals} decimal places, but the column (${sqlType}) keeps ${type.scale}; ` +
        `round it to ${type.scale} decimal place${type.scale === 1 ? '' : 's'} yourself, ` +
        'so the plan shows what is stored',
    );
  else if (integerDigits > type.precision - type.scale)
    report(
      path,
      codes.outOfRange,
      `${value} has ${integerDigits} digits before the decimal point, but the column (${sqlType}) holds ` +
        `${type.precision - type.scale}; use a smaller number`,
    );
  else if (significant > 15)
    report(
      path,
      codes.outOfRange,
      `${value} has ${significant} significant digits; Canon carries at most 15 exactly, write fewer`,
    );
}

/** Digits of a number as its shortest round-trip decimal (what YAML's text denotes, to a double's precision). */
export function digitsOf(value: number): { integerDigits: number; decimals: number; significant: number } {
  const match = /^-?(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value))!;
  const digits = match[1]! + (match[2] ?? '');
  const exponent = Number(match[3] ?? 0);
  // The value is 0.digits × 10^point.
  const point = match[1]!.length + exponent;
  const trimmed = digits.replace(/0+$/, '');
  const leadingZeros = trimmed.length - trimmed.replace(/^0+/, '').length;
  const significantDigits = trimmed.slice(leadingZeros);
  return {
    integerDigits: significantDigits === '' ? 0 : Math.max(0, point - leadingZeros),
    decimals: Math.max(0, trimmed.length - point),
    significant: significantDigits.length,
  };
}

function checkJson(root: unknown, path: ValuePath, report: Report) {
  const stack: { value: unknown; path: ValuePath }[] = [{ value: root, path }];
  while (stack.length > 0) {
    const { value, path: at } = stack.pop()!;
    if (typeof value === 'number' && !Number.isFinite(value))
      report(
        at,
        codes.wrongType,
        `${value} (YAML's ${Number.isNaN(value) ? '.nan' : '.inf'}) is not a JSON number, which jsonb cannot store; ` +
          `write a finite number, or quote it ("${value}") to store a string`,
      );
    else if (typeof value === 'string') checkString(value, at, report);
    else if (Array.isArray(value)) value.forEach((v, i) => stack.push({ value: v, path: [...at, i] }));
    else if (isMapping(value))
      for (const [key, v] of Object.entries(value)) {
        checkString(key, [...at, key], report);
        stack.push({ value: v, path: [...at, key] });
      }
  }
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A path naming a key that holds a lone surrogate, printable. */
const printable = (text: string) =>
  text.replace(new RegExp(loneSurrogate.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16)}`);

/** A lone UTF-16 surrogate (YAML's "\ud800") has no UTF-8 form: PostgreSQL refuses the whole statement. */
function checkString(value: string, path: ValuePath, report: Report) {
  if (loneSurrogate.test(value))
    report(
      path,
      codes.badFormat,
      'holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), which PostgreSQL cannot store; ' +
        'write the whole character (\\U0001F600) or remove the escape',
    );
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

const daysIn = (year: number, month: number) =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

function isDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month);
}

function isTimestamp(text: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/i.exec(text);
  if (!m || !isDate(m[1]!)) return false;
  const [hour, minute, second] = [Number(m[2]), Number(m[3]), Number(m[4])];
  return hour <= 23 && minute <= 59 && second <= 59;
}
