/**
 * A fast path for parseRegistryFile: builds each document's value and PositionIndex straight from the CST
 * tokens of yaml's Parser, without its Composer (a Document AST), the position walk and toJS, which took
 * about half of parsing. It mirrors yaml 2.9's compose/* for the shapes registry files use and gives
 * up (undefined: the caller runs the composer path) wherever that path would report anything or where
 * this code is not certain to produce the same value: anchors, aliases, tags, explicit keys,
 * directives, errors, duplicate, forbidden, null or non-scalar keys, NUL, inexact numbers, tabs.
 */
import { type CST, LineCounter, Parser } from 'yaml';
import { forbiddenKeys, type PositionIndex, pointerSegment, type SourceDocument } from './document.ts';
import type { ParsedFile } from './parse.ts';

type Token = CST.Token;
type SourceToken = CST.SourceToken;

/** Thrown (one instance, no stack) to leave the fast path; any other exception falls back too. */
const bail: unknown = Object.freeze({ bail: true });
function fail(): never {
  throw bail;
}

interface Context {
  lines: LineCounter;
  maxDepth: number;
  positions: PositionIndex;
  /** Where the node composed last ends with its trailing comments (the composer's range[2]). */
  end: number;
}

/**
 * The file's documents as the composer path would give them, or undefined if anything in the file is
 * outside what this mirrors exactly. `lexemes` are the yaml Lexer's, as parse.ts made them.
 */
export function fastCompose(file: string, lexemes: readonly string[], maxDepth: number): ParsedFile | undefined {
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0); // as composeDocuments in parse.ts: next() does not report the first line
  const documents: SourceDocument[] = [];
  const take = (token: Token) => {
    switch (token.type) {
      case 'document': {
        const positions: PositionIndex = {};
        const value = composeDocument(token, { lines, maxDepth, positions, end: 0 });
        documents.push({ file, index: documents.length, value, positions });
        return;
      }
      case 'doc-end': // `...`: the Composer wants a document before it and reads the rest strictly
        if (documents.length === 0) fail();
        checkEnd(token.end, true);
        return;
      case 'comment':
      case 'newline':
      case 'space':
      case 'byte-order-mark':
        return;
      default: // directives, errors
        fail();
    }
  };
  try {
    for (const lexeme of lexemes) for (const token of parser.next(lexeme)) take(token);
    for (const token of parser.end()) take(token);
  } catch {
    return undefined;
  }
  // A stream of comments only: rare, and the composer path knows what to say.
  return documents.length === 0 ? undefined : { documents, diagnostics: [] };
}

function composeDocument(doc: CST.Document, ctx: Context): unknown {
  const start = props(doc.start, 'doc-start', true, false);
  const root = doc.value;
  // Empty documents and scalar or sequence roots get a diagnostic there.
  if (root?.type !== 'block-map') fail();
  if (start.found && !start.hasNewline) fail(); // a block map on the `---` line
  checkEnd(doc.end, false);
  return blockMap(root, 1, '', ctx, [0, 0]);
}

interface Props {
  found: SourceToken | undefined;
  comma: boolean;
  hasNewline: boolean;
  hasComment: boolean;
  /** Where the last token ends (resolveProps' `end`), or -1 when there are none. */
  end: number;
}

/**
 * yaml's resolveProps for the tokens accepted here (space, comment, newline, `indicator`, a comma in
 * flow); anything it would report, or would need anchors and tags for, bails. Tabs bail too: where
 * they count as indentation is subtle.
 */
function props(tokens: readonly SourceToken[], indicator: string, startOnNewline: boolean, flow: boolean): Props {
  let hasSpace = startOnNewline;
  let hasNewline = false;
  let found: SourceToken | undefined;
  let comma = false;
  let hasComment = false;
  for (const token of tokens) {
    switch (token.type) {
      case 'space':
        if (token.source.includes('\t')) fail();
        hasSpace = true;
        break;
      case 'comment':
        if (!hasSpace) fail();
        hasComment = true;
        break;
      case 'newline':
        hasNewline = true;
        hasSpace = true;
        break;
      case 'comma':
        if (!flow || comma) fail();
        comma = true;
        hasSpace = false;
        break;
      default:
        if (token.type !== indicator || found) fail();
        found = token;
        hasSpace = false;
    }
  }
  const last = tokens[tokens.length - 1];
  return { found, comma, hasNewline, hasComment, end: last ? last.offset + last.source.length : -1 };
}

/**
 * yaml's resolveEnd: only space, comments and newlines after a node; `strict` wants a space before `#`.
 * Returns their length.
 */
function checkEnd(end: readonly SourceToken[] | undefined, strict: boolean): number {
  if (!end) return 0;
  let hasSpace = false;
  let length = 0;
  for (const token of end) {
    if (token.type === 'space' || token.type === 'newline') hasSpace = true;
    else if (token.type !== 'comment' || (strict && !hasSpace)) fail();
    length += token.source.length;
  }
  return length;
}

/** yaml's emptyScalarPosition: where a missing value sits (after the indicator and its spaces). */
function emptyPosition(offset: number, before: readonly SourceToken[]): number {
  for (let i = before.length - 1; i >= 0; --i) {
    let token = before[i];
    if (token!.type === 'space' || token!.type === 'comment' || token!.type === 'newline') {
      offset -= token!.source.length;
      continue;
    }
    token = before[++i];
    while (token?.type === 'space') {
      offset += token.source.length;
      token = before[++i];
    }
    break;
  }
  return offset;
}

function record(ctx: Context, pointer: string, offset: number, key: readonly [number, number]) {
  const { line, col } = ctx.lines.linePos(offset);
  ctx.positions[pointer] = [line, col, key[0], key[1]];
}

function linePos(ctx: Context, offset: number): [number, number] {
  const { line, col } = ctx.lines.linePos(offset);
  return [line, col];
}

/**
 * A value node (`token`), or a missing one (null), placed as composeEmptyNode does after the
 * indicator's `props` (its range reaching to their end if they hold a comment).
 */
function node(
  token: Token | undefined,
  before: readonly SourceToken[],
  indicator: Props,
  depth: number,
  pointer: string,
  ctx: Context,
  key: readonly [number, number],
): unknown {
  if (!token) {
    const at = emptyPosition(indicator.end, before);
    record(ctx, pointer, at, key);
    ctx.end = indicator.hasComment ? indicator.end : at;
    return null;
  }
  switch (token.type) {
    case 'block-map':
      return blockMap(token, depth, pointer, ctx, key);
    case 'block-seq':
      return blockSeq(token, depth, pointer, ctx, key);
    case 'flow-collection':
      return flowCollection(token, depth, pointer, ctx, key);
    case 'block-scalar':
      record(ctx, pointer, token.offset, key);
      ctx.end = token.offset + token.source.length;
      for (const prop of token.props) ctx.end += 'source' in prop ? prop.source.length : 0;
      return noNul(blockScalarValue(token));
    case 'scalar':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar': {
      record(ctx, pointer, token.offset, key);
      ctx.end = token.offset + token.source.length + checkEnd(token.end, true);
      if (token.type !== 'scalar') return noNul(quotedValue(token));
      const text = plainText(token.source);
      const value = coreValue(text);
      if (typeof value === 'string') return noNul(value);
      if (typeof value !== 'number' || Number.isSafeInteger(value)) return value;
      // As indexPositions does: every digit of a big integer, and inexact decimals are reported there.
      const exact = exactInteger(text);
      if (exact !== undefined) return exact;
      if (roundedFloat(text, value)) fail();
      return value;
    }
    default: // aliases, errors
      return fail();
  }
}

const noNul = (text: string) => (text.includes('\0') ? fail() : text);

/** A key's text as toJS and the position index both spell it; only keys where the two agree pass. */
function keyText(token: Token): string {
  let text: string;
  if (token.type === 'scalar') {
    const value = coreValue(plainText(token.source));
    if (typeof value === 'string') text = value;
    else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isSafeInteger(value)))
      text = String(value);
    else return fail(); // null keys are '' in toJS but "null" in pointers; big or odd numbers
  } else if (token.type === 'single-quoted-scalar' || token.type === 'double-quoted-scalar') {
    text = quotedValue(token);
  } else return fail();
  checkEnd(token.end, true);
  // A forbidden key goes the composer way, which reports it.
  if (forbiddenKeys.has(text) || text.includes('\0')) fail();
  return text;
}

function blockMap(
  map: CST.BlockMap,
  depth: number,
  pointer: string,
  ctx: Context,
  key: readonly [number, number],
): Record<string, unknown> {
  if (depth > ctx.maxDepth) fail();
  record(ctx, pointer, map.offset, key);
  const out: Record<string, unknown> = {};
  let offset = map.offset; // resolveBlockMap's, for its 1024-character check and the map's end
  let commentEnd = -1;
  map.items.forEach((item, i) => {
    const start = props(item.start, 'explicit-key-ind', true, false);
    if (start.found || item.explicitKey) fail();
    const { key: keyToken, sep, value } = item;
    if (!keyToken && !sep) {
      // Comments after the last entry; anywhere else the composer may complain.
      if (i !== map.items.length - 1) fail();
      commentEnd = start.end >= 0 ? start.end : offset;
      return;
    }
    if (!keyToken || !sep) return fail();
    if (!('indent' in keyToken) || keyToken.indent !== map.indent) fail();
    // Implicit keys are on one line.
    if (!('source' in keyToken) || keyToken.source.includes('\n')) fail();
    if ('end' in keyToken && keyToken.end?.some((t) => t.type === 'newline')) fail();
    const text = keyText(keyToken);
    if (Object.hasOwn(out, text)) fail(); // duplicate, or two spellings of one key (1 and "1")
    const after = props(sep, 'map-value-ind', false, false);
    if (!after.found) fail();
    if ((start.end >= 0 ? start.end : offset) < after.found.offset - 1024) fail();
    const block = value?.type === 'block-map' || value?.type === 'block-seq';
    if (block && !after.hasNewline) fail(); // `a: b: c`, `a: - b`
    const keyAt = linePos(ctx, keyToken.offset);
    const child = `${pointer}/${pointerSegment(text)}`;
    out[text] = node(value, sep, after, depth + 1, child, ctx, keyAt);
    offset = ctx.end;
  });
  ctx.end = commentEnd >= 0 ? commentEnd : offset;
  return out;
}

function blockSeq(
  seq: CST.BlockSequence,
  depth: number,
  pointer: string,
  ctx: Context,
  key: readonly [number, number],
): unknown[] {
  if (depth > ctx.maxDepth) fail();
  record(ctx, pointer, seq.offset, key);
  const out: unknown[] = [];
  let end = seq.offset;
  seq.items.forEach((item, i) => {
    const start = props(item.start, 'seq-item-ind', true, false);
    if (!start.found) {
      if (item.value || i !== seq.items.length - 1) fail();
      end = start.end >= 0 ? start.end : end; // comments after the last item
      return;
    }
    out.push(node(item.value, item.start, start, depth + 1, `${pointer}/${out.length}`, ctx, [0, 0]));
    end = ctx.end;
  });
  ctx.end = end;
  return out;
}

/** Flow sequences and maps of scalars and flow collections, as resolveFlowCollection reads them. */
function flowCollection(
  flow: CST.FlowCollection,
  depth: number,
  pointer: string,
  ctx: Context,
  key: readonly [number, number],
): unknown {
  if (depth > ctx.maxDepth) fail();
  record(ctx, pointer, flow.offset, key);
  const isMap = flow.start.source === '{';
  if (!isMap && flow.start.source !== '[') fail();
  const map: Record<string, unknown> = {};
  const seq: unknown[] = [];
  flow.items.forEach((item, i) => {
    const start = props(item.start, 'explicit-key-ind', false, true);
    if (start.found) fail();
    const { key: keyToken, sep, value } = item;
    if (!keyToken && !sep && !value) {
      // An empty item is only allowed last (`[a, ]`, `[]`), and a comma may not open the collection.
      if (i !== flow.items.length - 1 || (i === 0 && start.comma)) fail();
      return;
    }
    if (i === 0 ? start.comma : !start.comma) fail();
    if (value?.type === 'block-map' || value?.type === 'block-seq') fail();
    if (!isMap) {
      if (sep || keyToken) fail(); // `[a: b]` makes a one-pair map
      seq.push(node(value, item.start, start, depth + 1, `${pointer}/${seq.length}`, ctx, [0, 0]));
      return;
    }
    if (!keyToken || !sep) return fail(); // `{a}` is a key without a value
    const text = keyText(keyToken);
    if (Object.hasOwn(map, text)) fail();
    const after = props(sep, 'map-value-ind', false, true);
    if (!after.found || after.comma) fail();
    const child = `${pointer}/${pointerSegment(text)}`;
    const keyAt = linePos(ctx, keyToken.offset);
    map[text] = node(value, sep, after, depth + 1, child, ctx, keyAt);
  });
  const [close, ...rest] = flow.end;
  if (close?.source !== (isMap ? '}' : ']')) fail();
  ctx.end = close.offset + close.source.length + checkEnd(rest, true);
  return isMap ? map : seq;
}

/** yaml's plainValue and unfoldLines: a plain scalar's text, its line breaks folded. */
function plainText(source: string): string {
  const first = source[0];
  if (first === '\t' || first === ',' || first === '%' || first === '|' || first === '>') fail();
  if (first === '@' || first === '`') fail();
  return source.includes('\n') ? unfoldLines(source) : source;
}

function unfoldLines(source: string): string {
  const line = /(.*?)\r?\n/sy;
  let match = line.exec(source);
  if (!match) return source;
  const trimEnd = /(?<![ \t])[ \t]+$/;
  const trimBoth = /^[ \t]+|(?<![ \t])[ \t]+$/g;
  let res = match[1]!.replace(trimEnd, '');
  let sep = ' ';
  let pos = line.lastIndex;
  while ((match = line.exec(source))) {
    const lm = match[1]!.replace(trimBoth, '');
    if (lm === '') {
      if (sep === '\n') res += sep;
      else sep = '\n';
    } else {
      res += sep + lm;
      sep = ' ';
    }
    pos = line.lastIndex;
  }
  const last = /[ \t]*(.*)/sy;
  last.lastIndex = pos;
  match = last.exec(source);
  return res + sep + (match?.[1] ?? '');
}

/**
 * What yaml's core schema makes of a plain scalar: its tags tested in schema order (null, bool, int
 * 0o / decimal / 0x, .inf/.nan, exponent float, float), else a string. Every test needs its first
 * character in `~nNtTfF+-.0-9`, so other text is a string at once.
 */
function coreValue(text: string): unknown {
  if (text === '') return null;
  const c = text.charCodeAt(0);
  const maybe = (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 126 || 'nNtTfF'.includes(text[0]!);
  if (!maybe) return text;
  if (/^(?:~|[Nn]ull|NULL)?$/.test(text)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(text)) return text[0] === 't' || text[0] === 'T';
  if (/^0o[0-7]+$/.test(text)) return Number.parseInt(text.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(text)) return Number.parseInt(text, 10);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text))
    return text.slice(-3).toLowerCase() === 'nan' ? Number.NaN : text[0] === '-' ? -Infinity : Infinity;
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(text)) return Number.parseFloat(text);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(text)) return Number.parseFloat(text);
  return text;
}

function quotedValue(token: CST.FlowScalar): string {
  const source = token.source;
  if (source.length === 1) fail();
  if (token.type === 'single-quoted-scalar') {
    if (source[source.length - 1] !== "'") fail();
    return unfoldLines(source.slice(1, -1)).replace(/''/g, "'");
  }
  if (source[source.length - 1] !== '"') fail();
  if (!/[\\\n\r]/.test(source)) return source.slice(1, -1);
  return doubleQuoted(source);
}

const escapes: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  '\t': '\t',
};

/** yaml's doubleQuotedValue (the closing quote checked by the caller); a bad escape bails. */
function doubleQuoted(source: string): string {
  let res = '';
  for (let i = 1; i < source.length - 1; ++i) {
    const ch = source[i]!;
    if (ch === '\r' && source[i + 1] === '\n') continue;
    if (ch === '\n') {
      // A single line break folds to a space, several to one fewer line breaks.
      let fold = '';
      let next = source[i + 1];
      while (next === ' ' || next === '\t' || next === '\n' || next === '\r') {
        if (next === '\r' && source[i + 2] !== '\n') break;
        if (next === '\n') fold += '\n';
        i += 1;
        next = source[i + 1];
      }
      res += fold || ' ';
    } else if (ch === '\\') {
      let next = source[++i];
      const code = next === undefined ? undefined : escapes[next];
      if (code) res += code;
      else if (next === '\n') {
        // An escaped line break: the next line goes on without a space, its indentation dropped.
        next = source[i + 1];
        while (next === ' ' || next === '\t') next = source[++i + 1];
      } else if (next === '\r' && source[i + 1] === '\n') {
        next = source[++i + 1];
        while (next === ' ' || next === '\t') next = source[++i + 1];
      } else if (next === 'x' || next === 'u' || next === 'U') {
        const length = next === 'x' ? 2 : next === 'u' ? 4 : 8;
        const hex = source.substr(i + 1, length);
        if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) fail();
        const cp = Number.parseInt(hex, 16);
        if (cp > 0x10ffff) fail();
        res += String.fromCodePoint(cp);
        i += length;
      } else fail();
    } else if (ch === ' ' || ch === '\t') {
      // White space before a line break is dropped.
      const wsStart = i;
      let next = source[i + 1];
      while (next === ' ' || next === '\t') next = source[++i + 1];
      if (next !== '\n' && !(next === '\r' && source[i + 2] === '\n'))
        res += i > wsStart ? source.slice(wsStart, i + 1) : ch;
    } else res += ch;
  }
  return res;
}

/** yaml's resolveBlockScalar inside a collection; whatever it reports bails. */
function blockScalarValue(scalar: CST.BlockScalar): string {
  const [header, ...rest] = scalar.props;
  if (header?.type !== 'block-scalar-header') return fail();
  const source = (header as SourceToken).source;
  const folded = source[0] === '>';
  let indent = 0;
  let chomp = '';
  for (let i = 1; i < source.length; ++i) {
    const ch = source[i]!;
    if (!chomp && (ch === '-' || ch === '+')) chomp = ch;
    else {
      const n = Number(ch);
      if (!indent && n) indent = n;
      else fail();
    }
  }
  let hasSpace = false;
  for (const token of rest) {
    if (token.type === 'space') hasSpace = true;
    else if (token.type === 'comment') {
      if (!hasSpace) fail();
    } else if (token.type !== 'newline') fail();
  }
  const lines = scalar.source ? splitLines(scalar.source) : [];
  let chompStart = lines.length;
  for (let i = lines.length - 1; i >= 0; --i) {
    const content = lines[i]![1];
    if (content === '' || content === '\r') chompStart = i;
    else break;
  }
  if (chompStart === 0) return chomp === '+' && lines.length > 0 ? '\n'.repeat(Math.max(1, lines.length - 1)) : '';
  let trimIndent = scalar.indent + indent;
  let contentStart = 0;
  for (let i = 0; i < chompStart; ++i) {
    const [lineIndent, content] = lines[i]!;
    if (content === '' || content === '\r') {
      if (indent === 0 && lineIndent.length > trimIndent) trimIndent = lineIndent.length;
    } else {
      if (lineIndent.length < trimIndent) fail(); // more-indented leading empty lines
      if (indent === 0) trimIndent = lineIndent.length;
      contentStart = i;
      if (trimIndent === 0) fail(); // not indented inside a collection
      break;
    }
  }
  for (let i = lines.length - 1; i >= chompStart; --i) if (lines[i]![0].length > trimIndent) chompStart = i + 1;
  let value = '';
  let sep = '';
  let prevMoreIndented = false;
  for (let i = 0; i < contentStart; ++i) value += `${lines[i]![0].slice(trimIndent)}\n`;
  for (let i = contentStart; i < chompStart; ++i) {
    const [lineIndent] = lines[i]!;
    let content = lines[i]![1];
    if (content[content.length - 1] === '\r') content = content.slice(0, -1);
    if (content && lineIndent.length < trimIndent) fail();
    if (!folded) {
      value += sep + lineIndent.slice(trimIndent) + content;
      sep = '\n';
    } else if (lineIndent.length > trimIndent || content[0] === '\t') {
      if (sep === ' ') sep = '\n';
      else if (!prevMoreIndented && sep === '\n') sep = '\n\n';
      value += sep + lineIndent.slice(trimIndent) + content;
      sep = '\n';
      prevMoreIndented = true;
    } else if (content === '') {
      if (sep === '\n') value += '\n';
      else sep = '\n';
    } else {
      value += sep + content;
      sep = ' ';
      prevMoreIndented = false;
    }
  }
  if (chomp === '+') {
    for (let i = chompStart; i < lines.length; ++i) value += `\n${lines[i]![0].slice(trimIndent)}`;
    if (value[value.length - 1] !== '\n') value += '\n';
  } else if (chomp !== '-') value += '\n';
  return value;
}

/** A block scalar's lines as [indentation, content]. */
function splitLines(source: string): [string, string][] {
  const split = source.split(/\n( *)/);
  const first = split[0]!;
  const m = first.match(/^( *)/);
  const lines: [string, string][] = [m?.[1] ? [m[1], first.slice(m[1].length)] : ['', first]];
  for (let i = 1; i < split.length; i += 2) lines.push([split[i]!, split[i + 1]!]);
  return lines;
}

/**
 * A float whose text has more significant digits than a double keeps (`0.10000000000000000555`,
 * 21 digits of pi): JavaScript would store another decimal than the one written, silently.
 */
export function roundedFloat(source: unknown, value: number): boolean {
  if (typeof source !== 'string' || !Number.isFinite(value)) return false;
  const written = decimalKey(source);
  return written !== undefined && written !== decimalKey(String(value));
}

/** A decimal literal as sign, significant digits and exponent, so equal numbers have equal keys. */
function decimalKey(text: string): string | undefined {
  const m = /^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const digits = `${m[2]}${m[3] ?? ''}`;
  const leading = digits.length - digits.replace(/^0+/, '').length;
  const significant = digits.slice(leading).replace(/0+$/, '');
  if (significant === '') return '0';
  const exponent = Number(m[4] ?? 0) + m[2]!.length - leading;
  return `${m[1] === '-' ? '-' : ''}${significant}e${exponent}`;
}

/**
 * An integer literal's exact value when a double cannot hold it (jsonb keeps every digit of
 * `9007199254740993`; a double would make it ...992). The core schema's forms: decimal, 0o, 0x.
 */
export function exactInteger(source: unknown): bigint | undefined {
  if (typeof source !== 'string') return undefined;
  const m = /^([-+]?)([0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/.exec(source);
  if (!m) return undefined;
  const magnitude = BigInt(m[2]!);
  return m[1] === '-' ? -magnitude : magnitude;
}
