import { Composer, isAlias, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, type Node, Parser } from 'yaml';
import { codes } from '../diagnostics/codes.ts';
import { type Diagnostic, error, warning } from '../diagnostics/diagnostic.ts';
import { forbiddenKeys, type PositionIndex, pointerSegment, type SourceDocument } from './document.ts';
import { exactInteger, fastCompose, roundedFloat } from './fast-compose.ts';
import { nestingEstimate } from './nesting.ts';
import { firstInvalidUtf8, lineColumnOfByte } from './utf8.ts';

export interface ParseLimits {
  /** Files larger than this are refused unread. */
  maxFileBytes: number;
  /** Mappings and sequences nested deeper than this are refused (a registry asset needs about 8). */
  maxDepth: number;
  /** Alias expansions per document before it counts as a "billion laughs" attack. */
  maxAliasCount: number;
}

export const defaultLimits: ParseLimits = { maxFileBytes: 1024 * 1024, maxDepth: 64, maxAliasCount: 100 };

export interface ParsedFile {
  documents: SourceDocument[];
  diagnostics: Diagnostic[];
}

/** Parses one registry file's bytes into documents with positions. Never throws for bad input. */
export function parseRegistryFile(file: string, bytes: Uint8Array, limits: ParseLimits = defaultLimits): ParsedFile {
  return withPlainEnvironment(() => parseRegistryFileBy('auto', file, bytes, limits)!);
}

/**
 * Runs `parse` with process.env a plain copy of itself. yaml's Parser reads process.env.LOG_TOKENS
 * for every token, and the real environment costs a native lookup each time: on the calling thread
 * that made its Parser 2.7 times slower than a worker's (whose environment is a copy already). Nothing
 * else runs while a file is parsed, so nobody sees the swap; the real environment is back before
 * this returns, also when `parse` throws.
 */
function withPlainEnvironment<T>(parse: () => T): T {
  const real = process.env;
  process.env = { ...real };
  try {
    return parse();
  } finally {
    process.env = real;
  }
}

/**
 * For tests, one way only: 'fast' (src/load/fast-compose.ts; undefined where it would fall back) or
 * 'slow' (yaml's Composer); 'auto' is parseRegistryFile's, the fast way when it can.
 */
export function parseRegistryFileBy(
  way: 'auto' | 'fast' | 'slow',
  file: string,
  bytes: Uint8Array,
  limits: ParseLimits = defaultLimits,
): ParsedFile | undefined {
  const diagnostics: Diagnostic[] = [];
  const at = (line: number, column: number) => ({ file, line, column });
  if (bytes.length > limits.maxFileBytes) {
    return {
      documents: [],
      diagnostics: [
        error(
          codes.fileTooLarge,
          at(1, 1),
          `file is ${bytes.length} bytes, over the limit of ${limits.maxFileBytes}; split it into several files`,
        ),
      ],
    };
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const { line, column } = lineColumnOfByte(bytes, bad);
    const hex = bytes[bad]!.toString(16).padStart(2, '0');
    return {
      documents: [],
      diagnostics: [error(codes.notUtf8, at(line, column), `byte 0x${hex} is not valid UTF-8; save the file as UTF-8`)],
    };
  }
  let text = new TextDecoder('utf-8').decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '')
    return {
      documents: [],
      diagnostics: [warning(codes.emptyFile, at(1, 1), 'file is empty; remove it or add an asset')],
    };

  const lexemes = [...new Lexer().lex(text)];
  const tooDeep = nestingEstimate(lexemes, limits.maxDepth);
  if (tooDeep.depth > limits.maxDepth) {
    const [line, column] = lineColumnOfText(text, tooDeep.offset);
    return {
      documents: [],
      diagnostics: [
        error(
          codes.nestingTooDeep,
          at(line, column),
          `nested more than ${limits.maxDepth} levels deep; flatten this value`,
        ),
      ],
    };
  }
  if (way !== 'slow') {
    const fast = fastCompose(file, lexemes, limits.maxDepth);
    if (fast || way === 'fast') return fast;
  }
  const lineCounter = new LineCounter();
  const position = (offset: number): [number, number] => {
    const { line, col } = lineCounter.linePos(offset);
    return [line, col];
  };
  const list = composeDocuments(lexemes, lineCounter);
  const documents: SourceDocument[] = [];
  list.forEach((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings];
    for (const problem of problems) {
      const [line, column] = position(problem.pos[0]);
      const isDuplicate = problem.code === 'DUPLICATE_KEY';
      const first = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      const message = isDuplicate ? 'duplicate key in a mapping; each key may appear once' : `YAML syntax: ${first}`;
      diagnostics.push(error(isDuplicate ? codes.duplicateKey : codes.yamlSyntax, at(line, column), message));
    }
    if (doc.errors.length > 0) return;
    const docStart = position(doc.range[0]);
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
      diagnostics.push(warning(codes.emptyDocument, at(...docStart), 'empty YAML document; remove the extra `---`'));
      return;
    }
    if (!isMap(doc.contents)) {
      const [line, column] = doc.contents.range ? position(doc.contents.range[0]) : docStart;
      diagnostics.push(
        error(codes.notAMapping, at(line, column), 'a registry document must be a mapping with kind, id and name'),
      );
      return;
    }
    const positions: PositionIndex = {};
    const nulStrings: WalkProblem[] = [];
    const walkProblems = indexPositions(doc.contents, positions, position, limits.maxDepth, nulStrings);
    for (const p of [...walkProblems, ...nulStrings]) diagnostics.push(error(p.code, at(p.line, p.column), p.message));
    if (walkProblems.length > 0) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (e) {
      const message =
        e instanceof ReferenceError && /alias/i.test(e.message)
          ? `aliases expand too much (over ${limits.maxAliasCount} expansions); ` +
            'write the values out instead of nesting aliases'
          : `cannot read this document: ${(e as Error).message}`;
      diagnostics.push(error(codes.aliasExpansion, at(...docStart), message));
      return;
    }
    documents.push({ file, index, value, positions });
  });
  return { documents, diagnostics };
}

/**
 * What `parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false })` returns (an
 * empty stream as no documents), from lexemes already made for the nesting check: lexing is about a
 * sixth of parsing, and it was done twice.
 */
function composeDocuments(lexemes: readonly string[], lineCounter: LineCounter) {
  const parser = new Parser(lineCounter.addNewLine);
  // Parser.parse reports the first line's start itself; next() does not.
  lineCounter.addNewLine(0);
  function* tokens() {
    for (const lexeme of lexemes) yield* parser.next(lexeme);
    yield* parser.end();
  }
  return [...new Composer({ lineCounter, uniqueKeys: true, prettyErrors: false }).compose(tokens())];
}

interface WalkProblem {
  code: (typeof codes)[keyof typeof codes];
  line: number;
  column: number;
  message: string;
}

/**
 * PostgreSQL's text and jsonb cannot store U+0000, however YAML spells it (`\0`, `\x00`, `\u0000`, a raw
 * byte): without this check such a value passes validate and plan, then fails apply naming no asset.
 */
const nulProblem = (where: 'key' | 'string', [line, column]: [number, number]): WalkProblem => ({
  code: codes.nulCharacter,
  line,
  column,
  message:
    `this ${where} holds the character U+0000 (NUL), which PostgreSQL text and jsonb cannot store; ` +
    'remove it (YAML writes it as \\0, \\x00, \\u0000 or a raw zero byte)',
});

/**
 * Records every node's position by JSON pointer; refuses deep nesting and prototype keys (fatal to the
 * document) and reports strings and keys holding U+0000 in `nulStrings` (the document stays, so its
 * other problems and references are still checked). Iterative, so depth cannot overflow the stack.
 */
function indexPositions(
  root: Node,
  positions: PositionIndex,
  position: (offset: number) => [number, number],
  maxDepth: number,
  nulStrings: WalkProblem[],
): WalkProblem[] {
  const problems: WalkProblem[] = [];
  const stack: { node: Node; pointer: string; depth: number; key: [number, number] }[] = [
    { node: root, pointer: '', depth: 1, key: [0, 0] },
  ];
  while (stack.length > 0) {
    const { node, pointer, depth, key } = stack.pop()!;
    const start = node.range ? position(node.range[0]) : ([1, 1] as [number, number]);
    positions[pointer] = [start[0], start[1], key[0], key[1]];
    if (isAlias(node)) continue;
    if (isScalar(node) && typeof node.value === 'number' && !Number.isSafeInteger(node.value)) {
      const exact = exactInteger(node.source);
      if (exact !== undefined) node.value = exact;
      else if (roundedFloat(node.source, node.value)) nulStrings.push(inexactProblem(node.source as string, start));
    }
    if (isScalar(node) && typeof node.value === 'string' && node.value.includes('\0')) {
      nulStrings.push(nulProblem('string', start));
    }
    if ((isMap(node) || isSeq(node)) && depth > maxDepth) {
      problems.push({
        code: codes.nestingTooDeep,
        line: start[0],
        column: start[1],
        message: `nested more than ${maxDepth} levels deep; flatten this value`,
      });
      continue;
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        if (isScalar(keyNode) && typeof keyNode.value === 'number' && !Number.isSafeInteger(keyNode.value))
          keyNode.value = exactInteger(keyNode.source) ?? keyNode.value; // the key's text, every digit
        const keyText = isScalar(keyNode) ? String(keyNode.value) : null;
        const keyPosition = keyNode?.range ? position(keyNode.range[0]) : start;
        if (keyText === null) {
          problems.push({
            code: codes.yamlSyntax,
            line: keyPosition[0],
            column: keyPosition[1],
            message: 'mapping keys must be plain strings',
          });
          continue;
        }
        if (forbiddenKeys.has(keyText)) {
          problems.push({
            code: codes.forbiddenKey,
            line: keyPosition[0],
            column: keyPosition[1],
            message: `the key '${keyText}' is not allowed; rename it`,
          });
          continue;
        }
        if (keyText.includes('\0')) nulStrings.push(nulProblem('key', keyPosition));
        const childPointer = `${pointer}/${pointerSegment(keyText)}`;
        const valueNode = pair.value as Node | null;
        if (valueNode) stack.push({ node: valueNode, pointer: childPointer, depth: depth + 1, key: keyPosition });
        else positions[childPointer] = [keyPosition[0], keyPosition[1], keyPosition[0], keyPosition[1]];
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        if (item) stack.push({ node: item as Node, pointer: `${pointer}/${i}`, depth: depth + 1, key: [0, 0] });
      });
    }
  }
  return problems;
}

const inexactProblem = (source: string, [line, column]: [number, number]): WalkProblem => ({
  code: codes.inexactNumber,
  line,
  column,
  message:
    `${source.length > 40 ? `${source.slice(0, 37)}…` : source} has more significant digits than a double holds ` +
    `(it would be stored as ${Number(source)}); write at most 15 significant digits, or quote it to keep the text`,
});

function lineColumnOfText(text: string, offset: number): [number, number] {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return [line, offset - before.lastIndexOf('\n')];
}
