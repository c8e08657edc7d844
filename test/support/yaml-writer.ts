/**
 * Writes generated values as YAML in randomly chosen styles (plain, single- and double-quoted with
 * every kind of escape, folded over several lines, literal and folded block scalars with each
 * chomping indicator, flow and block collections), for the round-trip property test.
 */
import { decimalText, type Random } from './random-registry.ts';

/** Characters YAML does not allow raw (c-printable), and those a reader would take for line breaks. */
const mustEscape = (cp: number) =>
  cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 || cp === 0xfeff || cp === 0xfffe;

const hex = (cp: number, width: number) => cp.toString(16).toUpperCase().padStart(width, '0');

function doubleQuoted(r: Random, text: string, foldIndent: number | null): string {
  let out = '"';
  let sinceBreak = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += r.chance(0.5) ? '\\n' : '\\x0A';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += r.chance(0.5) ? '\\t' : '\t';
    else if (mustEscape(cp)) out += cp <= 0xff ? `\\x${hex(cp, 2)}` : `\\u${hex(cp, 4)}`;
    else if (cp > 0xffff && r.chance(0.3)) out += `\\U${hex(cp, 8)}`;
    else if (cp > 0x7f && cp <= 0xffff && r.chance(0.1)) out += `\\u${hex(cp, 4)}`;
    else if (foldIndent !== null && sinceBreak > 20 && ch !== ' ' && ch !== '\t' && r.chance(0.2)) {
      // An escaped line break: the text goes on, without a space, on the next (indented) line.
      out += `\\\n${' '.repeat(foldIndent + 2)}${ch}`;
      sinceBreak = 0;
      continue;
    } else out += ch;
    sinceBreak++;
  }
  return `${out}"`;
}

const printable = (text: string) => [...text].every((ch) => !mustEscape(ch.codePointAt(0)!));
const plainSafe = (text: string) =>
  /^[A-Za-z][A-Za-z0-9 _]*[A-Za-z0-9]$/.test(text) &&
  !/^(null|Null|NULL|true|True|TRUE|false|False|FALSE|y|n)$/.test(text) &&
  !text.includes('  ');

/**
 * A string scalar as the value of a mapping key at `indent` (block scalars are allowed there), or
 * inline (`inline`: in a flow collection or a sequence item).
 */
export function stringYaml(r: Random, text: string, indent: number, inline = false): string {
  const options: string[] = ['double'];
  if (plainSafe(text)) options.push('plain');
  if (printable(text) && !text.includes('\n')) options.push('single');
  // A line of only white space in a block scalar is read as an empty line: such text is quoted.
  const blankLine = /(^|\n)[ \t]+(\n|$)/.test(text);
  if (!inline && printable(text) && !text.includes('\r') && text.length > 0 && !blankLine)
    options.push('literal', 'literal');
  if (!inline && printable(text) && /^[^\s][^\n\r\t]*[^\s]$/.test(text)) options.push('folded');
  switch (r.pick(options)) {
    case 'plain':
      return text;
    case 'single':
      return `'${text.replace(/'/g, "''")}'`;
    case 'literal': {
      const trailing = /\n*$/.exec(text)![0].length;
      const body = text.slice(0, text.length - trailing);
      // strip: no final line break; clip: exactly one; keep: all of them.
      const chomp = trailing === 0 ? '-' : trailing === 1 && body !== '' ? '' : '+';
      const pad = ' '.repeat(indent + 2);
      // The text without its last line break, which the line end after the scalar supplies.
      const lines = (trailing === 0 ? text : text.slice(0, -1)).split('\n');
      return `|2${chomp}\n${lines.map((l) => (l === '' ? '' : pad + l)).join('\n')}`;
    }
    case 'folded':
      return `>-\n${' '.repeat(indent + 2)}${text}`;
    default:
      return doubleQuoted(r, text, inline ? null : indent);
  }
}

const keyYaml = (r: Random, key: string) => (plainSafe(key) && r.chance(0.7) ? key : doubleQuoted(r, key, null));

function scalarYaml(r: Random, value: unknown, indent: number, inline: boolean): string {
  if (value === null) return r.pick(['null', '~', 'Null']);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return stringYaml(r, value, indent, inline);
  if (isDecimal(value)) return decimalText(value);
  throw new Error(`not a scalar: ${String(value)}`);
}

const isDecimal = (v: unknown): v is { units: bigint; scale: number } =>
  typeof v === 'object' && v !== null && 'units' in v && 'scale' in v;
const isCollection = (v: unknown) => typeof v === 'object' && v !== null && !isDecimal(v);

function flowYaml(r: Random, value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => flowYaml(r, v)).join(', ')}]`;
  if (isCollection(value))
    return `{${Object.entries(value as object)
      .map(([k, v]) => `${doubleQuoted(r, k, null)}: ${flowYaml(r, v)}`)
      .join(', ')}}`;
  return scalarYaml(r, value, 0, true);
}

/** `key: value` lines at `indent`, the value in flow or block style. */
export function entryYaml(r: Random, key: string, value: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  const head = `${pad}${keyYaml(r, key)}:`;
  if (!isCollection(value)) return `${head} ${scalarYaml(r, value, indent, false)}\n`;
  const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value as object).length === 0;
  if (empty || r.chance(0.4)) return `${head} ${flowYaml(r, value)}\n`;
  if (Array.isArray(value)) {
    return `${head}\n${value
      .map((item) =>
        isCollection(item)
          ? `${pad}  -\n${blockBody(r, item, indent + 4)}`
          : `${pad}  - ${scalarYaml(r, item, 0, true)}\n`,
      )
      .join('')}`;
  }
  return `${head}\n${blockBody(r, value, indent + 2)}`;
}

function blockBody(r: Random, value: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value as object).length === 0;
  if (empty || r.chance(0.3)) return `${pad}${flowYaml(r, value)}\n`;
  if (Array.isArray(value))
    return value
      .map((item) =>
        isCollection(item) ? `${pad}-\n${blockBody(r, item, indent + 2)}` : `${pad}- ${scalarYaml(r, item, 0, true)}\n`,
      )
      .join('');
  return Object.entries(value as object)
    .map(([k, v]) => entryYaml(r, k, v, indent))
    .join('');
}
