import { isMap, isScalar, isSeq, type Node, type Pair, parse, Scalar } from 'yaml';
import { isMapping } from '../load/document.ts';
import { sameValue } from '../plan/normalize.ts';

/** Replace source text [start, end) with text: edits are made of these, so untouched bytes stay as they were. */
export interface Splice {
  start: number;
  end: number;
  text: string;
}

/** How the items of a list at a top-level property are told apart (a relation's key), to edit it item by item. */
export type ItemIdentity = (item: unknown) => string;

interface Context {
  src: string;
  /** Top-level property → identity of its list's items. */
  identities: ReadonlyMap<string, ItemIdentity>;
  out: Splice[];
}

const columnOf = (src: string, offset: number) => offset - src.lastIndexOf('\n', offset - 1) - 1;
const lineStart = (src: string, offset: number) => src.lastIndexOf('\n', offset - 1) + 1;
/** The end of a node and what trails it on its line (a comment, the line break). */
function endOfLine(src: string, offset: number) {
  if (offset > 0 && src[offset - 1] === '\n') return offset;
  const nl = src.indexOf('\n', offset);
  return nl === -1 ? src.length : nl + 1;
}
const nodeEnd = (src: string, node: Node) => endOfLine(src, node.range![2]);

/** A string YAML reads back as itself when written without quotes, in block or flow context. */
function plainSafe(value: string, inFlow: boolean): boolean {
  if (value === '' || value !== value.trim() || /[\n\r\t]/.test(value)) return false;
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(value) || /: | #|:$/.test(value)) return false;
  if (inFlow && /[,[\]{}]/.test(value)) return false;
  try {
    return parse(value) === value;
  } catch {
    return false;
  }
}

/** `|` with the chomping indicator that keeps the value's trailing newlines; undefined when a literal cannot say it. */
function blockLiteral(value: string, indent: number): string | undefined {
  const body = value.endsWith('\n') ? value.slice(0, -1) : value;
  if (body === '' || /^[ \t]*\n?$/.test(body.split('\n')[0]!) || /^ /.test(body) || body.includes('\r'))
    return undefined;
  const chomp = value.endsWith('\n\n') ? '+' : value.endsWith('\n') ? '' : '-';
  const pad = ' '.repeat(indent);
  return `|${chomp}\n${body
    .split('\n')
    .map((line) => (line === '' ? '' : pad + line))
    .join('\n')}\n`;
}

function scalarText(value: unknown, style: Scalar['type'], inFlow: boolean): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'string') return String(value);
  if (style === Scalar.QUOTE_SINGLE && !/[\n\r\t]/.test(value)) return `'${value.replaceAll("'", "''")}'`;
  if (style !== Scalar.QUOTE_DOUBLE && plainSafe(value, inFlow)) return value;
  // JSON's escapes are all YAML double-quoted escapes.
  return JSON.stringify(value);
}

/** A value on one line, in flow style: `{model: gpt-4.1, temperature: 0.2}`, `[a, b]`. */
export function flowText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flowText).join(', ')}]`;
  if (isMapping(value)) {
    const pairs = Object.entries(value).map(([k, v]) => `${scalarText(k, Scalar.PLAIN, true)}: ${flowText(v)}`);
    return `{${pairs.join(', ')}}`;
  }
  return scalarText(value, Scalar.PLAIN, true);
}

/** A value after `key: ` (or `- `) in a block collection whose items start at `indent`. */
function blockValueText(value: unknown, indent: number, style?: Scalar['type']): string {
  if (typeof value === 'string' && value.includes('\n')) {
    const literal = blockLiteral(value, indent + 2);
    if (literal) return literal;
  }
  if (Array.isArray(value) || isMapping(value)) return `${flowText(value)}\n`;
  return `${scalarText(value, style ?? Scalar.PLAIN, false)}\n`;
}

function replaceNode(ctx: Context, node: Node, desired: unknown, inFlow: boolean, indent: number) {
  const { src } = ctx;
  const [start, valueEnd] = node.range!;
  const region = src.slice(start, valueEnd);
  const style = isScalar(node) ? node.type : undefined;
  const wasBlock = style === Scalar.BLOCK_LITERAL || style === Scalar.BLOCK_FOLDED;
  // A block literal only where its lines cannot swallow what follows the value on its line (a comment).
  const lineFree = wasBlock || /^[ \t]*(\n|$)/.test(src.slice(valueEnd, valueEnd + 200));
  let text =
    !inFlow && lineFree && typeof desired === 'string' && desired.includes('\n')
      ? (blockLiteral(desired, indent + 2) ?? JSON.stringify(desired))
      : isScalar(node) && !Array.isArray(desired) && !isMapping(desired)
        ? scalarText(desired, style, inFlow)
        : flowText(desired);
  if (region.endsWith('\n') && !text.endsWith('\n')) text += '\n';
  if (!region.endsWith('\n') && text.endsWith('\n')) text = text.slice(0, -1);
  ctx.out.push({ start, end: valueEnd, text });
}

function reconcileMap(ctx: Context, node: Node & { items: Pair[] }, desired: Record<string, unknown>, top: boolean) {
  const { src } = ctx;
  const pairs = node.items.filter((p) => isScalar(p.key));
  const indent = columnOf(src, (pairs[0]!.key as Node).range![0]);
  const seen = new Set<string>();
  const ends = new Map<string, number>();
  for (const pair of pairs) {
    const key = String((pair.key as Scalar).value);
    seen.add(key);
    const value = pair.value as Node | null;
    if (!(key in desired) || value === null) {
      ctx.out.push({
        start: lineStart(src, (pair.key as Node).range![0]),
        end: nodeEnd(src, value ?? (pair.key as Node)),
        text: '',
      });
      if (key in desired) seen.delete(key);
      continue;
    }
    ends.set(key, nodeEnd(src, value));
    reconcile(ctx, value, desired[key], false, indent, top ? ctx.identities.get(key) : undefined);
  }
  // A new key goes after the key that precedes it in `desired`, or before the first one.
  let at = lineStart(src, (pairs[0]!.key as Node).range![0]);
  for (const [key, value] of Object.entries(desired)) {
    if (seen.has(key)) {
      at = ends.get(key)!;
      continue;
    }
    const lead = at > 0 && src[at - 1] !== '\n' ? '\n' : '';
    const pad = ' '.repeat(indent);
    ctx.out.push({
      start: at,
      end: at,
      text: `${lead}${pad}${scalarText(key, Scalar.PLAIN, false)}: ${blockValueText(value, indent)}`,
    });
  }
}

function reconcileList(ctx: Context, node: Node & { items: unknown[] }, desired: unknown[], identity: ItemIdentity) {
  const { src } = ctx;
  const items = node.items as Node[];
  const indent = columnOf(src, node.range![0]);
  const wanted = new Map(desired.map((d) => [identity(d), d]));
  const present = new Set<string>();
  for (const item of items) {
    const key = identity(item.toJSON());
    present.add(key);
    if (!wanted.has(key)) ctx.out.push({ start: lineStart(src, item.range![0]), end: nodeEnd(src, item), text: '' });
    else reconcile(ctx, item, wanted.get(key), false, indent + 2);
  }
  const at = nodeEnd(src, items[items.length - 1]!);
  const lead = src[at - 1] === '\n' ? '' : '\n';
  for (const [key, value] of wanted) {
    if (!present.has(key))
      ctx.out.push({ start: at, end: at, text: `${lead}${' '.repeat(indent)}- ${blockValueText(value, indent + 2)}` });
  }
}

/**
 * The smallest edits that make `node` hold `desired`: unchanged nodes are not touched; keys and list
 * items (matched by `identity`) are added, removed or edited in place in block collections; a flow
 * collection or a scalar that changed is written anew, in its old style where the value allows.
 */
function reconcile(
  ctx: Context,
  node: Node,
  desired: unknown,
  inFlow: boolean,
  indent: number,
  identity?: ItemIdentity,
) {
  if (sameValue(node.toJSON(), desired)) return;
  const flow = inFlow || (node as { flow?: boolean }).flow === true;
  if (!flow && isMap(node) && node.items.length > 0 && isMapping(desired))
    return reconcileMap(ctx, node, desired, false);
  if (!flow && isSeq(node) && node.items.length > 0 && Array.isArray(desired) && identity)
    return reconcileList(ctx, node, desired, identity);
  replaceNode(ctx, node, desired, flow, indent);
}

/** Edits turning one document's top-level mapping into `desired`. */
export function documentEdits(
  src: string,
  root: Node,
  desired: Record<string, unknown>,
  identities: ReadonlyMap<string, ItemIdentity>,
): Splice[] {
  const ctx: Context = { src, identities, out: [] };
  if (!isMap(root) || root.items.length === 0) throw new Error('a document that is not a mapping');
  reconcileMap(ctx, root, desired, true);
  return ctx.out;
}

/** Applies splices, last first, so earlier offsets stay valid; insertions at one offset keep their order. */
export function applySplices(src: string, splices: Splice[]): string {
  const ordered = splices.map((s, i) => ({ ...s, i })).sort((a, b) => b.start - a.start || b.i - a.i);
  let out = src;
  for (const s of ordered) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}
