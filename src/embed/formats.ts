/**
 * Documents → sections of blocks, per format. A section is the text under one heading (its title is
 * the heading path, "Guide > Refunds"); a block is the smallest piece the chunker keeps whole when it
 * can: a paragraph, a fenced code block, a table, a record.
 */
export type DocumentFormat = 'markdown' | 'text' | 'html' | 'json' | 'csv';

export interface Block {
  text: string;
  /** How to split it when it is over the token budget: prose by lines then sentences, code by lines, tables by rows. */
  kind: 'prose' | 'code' | 'table';
}

export interface Section {
  title: string | null;
  blocks: Block[];
}

/** A document that cannot be read as its format (JSON that does not parse, say). */
export class FormatError extends Error {}

export function sectionsOf(text: string, format: DocumentFormat): Section[] {
  const normalized = text.replace(/\r\n?/g, '\n').replace(/^\uFEFF/, '');
  switch (format) {
    case 'markdown':
      return markdownSections(normalized);
    case 'html':
      return markdownSections(htmlToMarkdown(normalized));
    case 'json':
      return jsonSections(normalized);
    case 'csv':
      return csvSections(normalized);
    case 'text':
      return [{ title: null, blocks: paragraphs(normalized) }];
  }
}

const paragraphs = (text: string): Block[] =>
  text
    .split(/\n[ \t]*\n+/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => ({ text: p, kind: 'prose' }));

const fenceOpen = /^ {0,3}(`{3,}|~{3,})/;
const atxHeading = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const tableRow = /^ {0,3}\|/;

function markdownSections(text: string): Section[] {
  const sections: Section[] = [];
  const headings: string[] = [];
  let current: Section = { title: null, blocks: [] };
  let paragraph: string[] = [];
  const flush = () => {
    const p = paragraph.join('\n').trim();
    if (p !== '') current.blocks.push({ text: p, kind: 'prose' });
    paragraph = [];
  };
  const startSection = (level: number, title: string) => {
    flush();
    if (current.blocks.length > 0) sections.push(current);
    headings.length = level - 1;
    headings[level - 1] = title;
    current = { title: headings.filter((h) => h).join(' > ') || null, blocks: [] };
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = fenceOpen.exec(line);
    if (fence) {
      flush();
      const marker = fence[1]!;
      const body = [line];
      while (++i < lines.length) {
        body.push(lines[i]!);
        if (
          lines[i]!.trim().startsWith(marker[0]!.repeat(marker.length)) &&
          lines[i]!.trim().replace(/[`~]/g, '') === ''
        )
          break;
      }
      current.blocks.push({ text: body.join('\n'), kind: 'code' });
      continue;
    }
    const heading = atxHeading.exec(line);
    if (heading) {
      startSection(heading[1]!.length, (heading[2] ?? '').trim());
      continue;
    }
    // Setext: a one-line paragraph underlined with === (level 1) or --- (level 2).
    if (paragraph.length === 1 && /^ {0,3}(=+|-+)[ \t]*$/.test(line) && paragraph[0]!.trim() !== '') {
      const title = paragraph[0]!.trim();
      paragraph = [];
      startSection(line.trim().startsWith('=') ? 1 : 2, title);
      continue;
    }
    if (tableRow.test(line) && paragraph.length === 0) {
      const rows = [line];
      while (i + 1 < lines.length && tableRow.test(lines[i + 1]!)) rows.push(lines[++i]!);
      current.blocks.push({ text: rows.join('\n'), kind: 'table' });
      continue;
    }
    if (line.trim() === '') flush();
    else paragraph.push(line);
  }
  flush();
  if (current.blocks.length > 0) sections.push(current);
  return sections;
}

const entities: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  mdash: '—',
  ndash: '–',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  copy: '©',
  reg: '®',
  trade: '™',
  times: '×',
  euro: '€',
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return entities[name.toLowerCase()] ?? whole;
  });
}

/** Tags that end a block of text: they become paragraph breaks. */
const blockTags =
  'p|div|section|article|header|footer|main|nav|aside|ul|ol|table|thead|tbody|blockquote|dl|dt|dd|figure';

/** Enough of HTML for retrieval: headings, paragraphs, lists, preformatted text and table rows; the rest is text. */
function htmlToMarkdown(html: string): string {
  let text = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|head|noscript|template)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(
      /<pre\b[^>]*>([\s\S]*?)<\/pre\s*>/gi,
      (_, body: string) => `\n\n\`\`\`\n${body.replace(/<[^>]+>/g, '').replace(/^\s*\n|\s+$/g, '')}\n\`\`\`\n\n`,
    );
  text = text
    .replace(
      /<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi,
      (_, level: string, body: string) =>
        `\n\n${'#'.repeat(Number(level))} ${body
          .replace(/<[^>]+>/g, '')
          .replace(/\s+/g, ' ')
          .trim()}\n\n`,
    )
    .replace(/\s*<li\b[^>]*>/gi, '\n- ')
    .replace(/\s*<tr\b[^>]*>/gi, '\n')
    .replace(/<\/tr\s*>/gi, ' |')
    .replace(/<(td|th)\b[^>]*>/gi, ' | ')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(new RegExp(`<\\/?(${blockTags})\\b[^>]*>`, 'gi'), '\n\n')
    .replace(/<[^>]+>/g, '');
  // Inside code fences whitespace is kept; elsewhere runs of spaces inside a line collapse.
  return decodeEntities(text)
    .split(/(\n```\n[\s\S]*?\n```\n)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/[ \t\u00a0]+/g, ' ').replace(/ *\n */g, '\n')))
    .join('');
}

const scalarText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** `path: value` lines: a record reads as text and a search for a field name finds it. */
function flatten(value: unknown, path: string, out: string[]) {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object'))
      out.push(`${path}: ${value.map(scalarText).join(', ')}`);
    else value.forEach((v, i) => flatten(v, `${path}[${i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
  } else out.push(path ? `${path}: ${scalarText(value)}` : scalarText(value));
}

const record = (value: unknown): Block => {
  const lines: string[] = [];
  flatten(value, '', lines);
  return { text: lines.join('\n'), kind: 'prose' };
};

function jsonSections(text: string): Section[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`not valid JSON: ${(e as Error).message}`);
  }
  if (Array.isArray(value)) return [{ title: null, blocks: value.map(record).filter((b) => b.text !== '') }];
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, v]) => ({
        title: key,
        blocks: (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object') ? v : [v])
          .map(record)
          .filter((b) => b.text !== ''),
      }))
      .filter((s) => s.blocks.length > 0);
  }
  return [{ title: null, blocks: [record(value)] }];
}

/** RFC 4180: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new FormatError('a quoted CSV field is never closed');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

/** One block per row, each naming its columns ("name: value; …"), so every chunk stands on its own. */
function csvSections(text: string): Section[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  return [
    {
      title: null,
      blocks: rows.map((r) => ({
        text: r.map((v, i) => `${header[i] ?? `column ${i + 1}`}: ${v.trim()}`).join('; '),
        kind: 'prose' as const,
      })),
    },
  ];
}
