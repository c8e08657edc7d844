import { createHash } from 'node:crypto';
import { type Block, type DocumentFormat, sectionsOf } from './formats.ts';
import { countTokens } from './tokenizer.ts';

/**
 * Part of every chunk's hash: a change to how Canon chunks re-chunks and re-embeds everything, rather
 * than leaving vectors made from text cut another way.
 */
export const chunkerVersion = 'canon-chunker/1';

export interface ChunkSettings {
  /** Most tokens in one chunk's content. */
  maxTokens: number;
  /** Tokens of the previous chunk's end repeated at the start of the next one in the same section. */
  overlap: number;
}

export const defaultChunkSettings: ChunkSettings = { maxTokens: 512, overlap: 64 };

export interface Chunk {
  index: number;
  content: string;
  sectionTitle: string | null;
  tokenCount: number;
  /** Of what is embedded (chunker version, title and content): equal hash, the same vector. */
  hash: string;
}

/** What is sent to the embedding model: the section's title gives a chunk its context. */
export const embeddingInput = (chunk: Pick<Chunk, 'content' | 'sectionTitle'>) =>
  chunk.sectionTitle ? `${chunk.sectionTitle}\n\n${chunk.content}` : chunk.content;

export const chunkHash = (sectionTitle: string | null, content: string) =>
  createHash('sha256')
    .update(`${chunkerVersion}\n${sectionTitle ?? ''}\n${content}`)
    .digest('hex');

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
const wordSegmenter = new Intl.Segmenter('en', { granularity: 'word' });

/**
 * A document → chunks, deterministically: the same text and settings give the same chunks, on any
 * machine. Chunks never cross a heading (each section is packed on its own, so an edit changes the
 * chunks of its section only); blocks (paragraphs, code, tables) are packed whole while they fit the
 * token budget, and split by lines, then sentences, then words when one alone does not.
 */
export function chunkDocument(
  text: string,
  format: DocumentFormat,
  settings: ChunkSettings = defaultChunkSettings,
): Chunk[] {
  const tokens = memoized(countTokens);
  const chunks: Omit<Chunk, 'index'>[] = [];
  for (const section of sectionsOf(text, format)) {
    const units = section.blocks.flatMap((b) => fit(b, settings.maxTokens, tokens));
    for (const content of pack(units, settings, tokens)) {
      chunks.push({
        content,
        sectionTitle: section.title === null ? null : section.title.slice(0, 500),
        tokenCount: tokens(content),
        hash: chunkHash(section.title, content),
      });
    }
  }
  return chunks.map((c, index) => ({ index, ...c }));
}

function memoized(count: (text: string) => number) {
  const cache = new Map<string, number>();
  return (text: string) => {
    let n = cache.get(text);
    if (n === undefined) cache.set(text, (n = count(text)));
    return n;
  };
}

type Tokens = (text: string) => number;

/** A block cut into pieces of at most `max` tokens, each as whole as possible. */
function fit(block: Block, max: number, tokens: Tokens): string[] {
  if (tokens(block.text) <= max) return [block.text];
  if (block.kind === 'table') return tableRows(block.text, max, tokens);
  if (block.kind === 'code') return codeLines(block.text, max, tokens);
  const lines = block.text.split('\n');
  if (lines.length > 1)
    return group(lines, '\n', max, tokens).flatMap((piece) => fit({ text: piece, kind: 'prose' }, max, tokens));
  const sentences = [...sentenceSegmenter.segment(block.text)].map((s) => s.segment);
  if (sentences.length > 1)
    return group(sentences, '', max, tokens).flatMap((s) => (tokens(s) <= max ? [s.trim()] : words(s, max, tokens)));
  return words(block.text, max, tokens);
}

/** Consecutive parts joined while they fit; a part over the budget stands alone (its caller splits it further). */
function group(parts: string[], separator: string, max: number, tokens: Tokens): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const part of parts) {
    const candidate = [...current, part].join(separator);
    if (current.length > 0 && tokens(candidate) > max) {
      out.push(current.join(separator));
      current = [part];
    } else current.push(part);
  }
  if (current.length > 0) out.push(current.join(separator));
  return out.map((p) => p.trim()).filter((p) => p !== '');
}

/** The last resort, for a sentence longer than the budget (or text without sentence ends, such as CJK runs). */
function words(text: string, max: number, tokens: Tokens): string[] {
  const out: string[] = [];
  let current = '';
  for (const { segment } of wordSegmenter.segment(text)) {
    if (current !== '' && tokens(current + segment) > max) {
      out.push(current.trim());
      current = '';
    }
    // A single "word" over the budget (a long URL, a base64 blob): cut by characters.
    if (tokens(segment) > max) {
      for (const ch of segment) {
        if (current !== '' && tokens(current + ch) > max) {
          out.push(current);
          current = '';
        }
        current += ch;
      }
    } else current += segment;
  }
  if (current.trim() !== '') out.push(current.trim());
  return out.filter((p) => p !== '');
}

/** A table's rows in groups, each group under the table's header so every chunk reads as a table. */
function tableRows(text: string, max: number, tokens: Tokens): string[] {
  const rows = text.split('\n');
  const hasHeader = rows.length > 2 && /^[\s|:-]+$/.test(rows[1]!) && rows[1]!.includes('-');
  const header = hasHeader ? rows.slice(0, 2).join('\n') : '';
  const body = hasHeader ? rows.slice(2) : rows;
  const budget = Math.max(1, max - (header ? tokens(header) + 1 : 0));
  return group(body, '\n', budget, tokens)
    .flatMap((g) => (tokens(g) <= budget ? [g] : words(g, budget, tokens)))
    .map((g) => (header ? `${header}\n${g}` : g));
}

/** Code split by lines, each piece fenced again so it still reads as code. */
function codeLines(text: string, max: number, tokens: Tokens): string[] {
  const lines = text.split('\n');
  const open = lines[0]!;
  const closed = lines.length > 1 && /^\s*(`{3,}|~{3,})\s*$/.test(lines[lines.length - 1]!);
  const body = lines.slice(1, closed ? -1 : undefined);
  const fence = open.trim().replace(/[^`~].*$/, '');
  const budget = Math.max(1, max - tokens(`${open}\n\n${fence}`));
  return group(body, '\n', budget, tokens)
    .flatMap((g) => (tokens(g) <= budget ? [g] : words(g, budget, tokens)))
    .map((g) => `${open}\n${g}\n${fence}`);
}

/**
 * Pure greedy packing shifts every later boundary when one paragraph grows or shrinks, and so
 * re-embeds the rest of the section. Anchors put boundaries back in step: a chunk always ends before
 * an anchor, and whether a unit is one depends on its own text only. A unit's chance is in proportion
 * to its size, so anchors fall about every two budgets of text whatever the paragraphs' lengths: an
 * edit changes its own chunk and the few up to the next anchor, at the cost of chunks a little less full.
 */
function isAnchor(unit: string, unitTokens: number, maxTokens: number): boolean {
  const draw = createHash('sha256').update(unit).digest().readUInt32BE(0) / 2 ** 32;
  return draw < unitTokens / (2 * maxTokens);
}

/**
 * Units (each within the budget) → chunk texts: greedy, in order, whole units only, ending early at
 * anchors. A chunk after the first starts with the previous chunk's last sentences, up to `overlap`
 * tokens, when they fit.
 */
function pack(units: string[], settings: ChunkSettings, tokens: Tokens): string[] {
  const out: string[] = [];
  let current: string[] = [];
  const text = (parts: string[]) => parts.join('\n\n');
  for (const unit of units) {
    const full = current.length > 0 && tokens(text([...current, unit])) > settings.maxTokens;
    if (full || (current.length > 0 && isAnchor(unit, tokens(unit), settings.maxTokens))) {
      out.push(text(current));
      const seed = overlapOf(current[current.length - 1]!, settings.overlap, tokens);
      current = seed.length > 0 && tokens(text([...seed, unit])) <= settings.maxTokens ? seed : [];
    }
    current.push(unit);
  }
  if (current.length > 0) out.push(text(current));
  return out;
}

/** The trailing whole sentences of `unit` within `overlap` tokens (none when even the last is longer). */
function overlapOf(unit: string, overlap: number, tokens: Tokens): string[] {
  if (overlap <= 0 || unit.startsWith('```') || unit.startsWith('|')) return [];
  const sentences = [...sentenceSegmenter.segment(unit)].map((s) => s.segment);
  let tail = '';
  for (let i = sentences.length - 1; i >= 0; i--) {
    const candidate = sentences[i] + tail;
    if (tokens(candidate.trim()) > overlap) break;
    tail = candidate;
  }
  // The whole unit as "overlap" would repeat it in full: overlap is a tail, never a copy.
  return tail.trim() === '' || tail.trim() === unit.trim() ? [] : [tail.trim()];
}
