import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import { codes, type DiagnosticCode } from '../diagnostics/codes.ts';
import type { ChunksModel } from '../kinds/model.ts';
import { firstInvalidUtf8 } from '../load/utf8.ts';
import { type DocumentFormat, FormatError, sectionsOf } from './formats.ts';

/** A knowledge file over this size is refused: chunk it into several sources. */
export const maxSourceFileBytes = 16 * 1024 * 1024;

export interface SourceText {
  text: string;
  format: DocumentFormat;
}

/** Why an asset's text cannot be read, and which property to point at. */
export interface SourceProblem {
  property: string;
  code: DiagnosticCode;
  message: string;
}

const byContentType: Record<string, DocumentFormat> = {
  markdown: 'markdown',
  text: 'text',
  html: 'html',
  json: 'json',
  csv: 'csv',
};
const byExtension: Record<string, DocumentFormat> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
  '.html': 'html',
  '.htm': 'html',
  '.json': 'json',
  '.csv': 'csv',
};

/**
 * The text an asset's chunks are made from, by the kind's x-canon.chunks properties: inline text, or a
 * file relative to the registry folder. `values` are the asset's properties; `undefined` when the asset
 * has no text (a source known only by its URL). Never throws for the author's mistakes: a missing,
 * unreadable, oversized, non-UTF-8 or unparsable file is a problem located at the property.
 */
export function readSourceText(
  model: ChunksModel,
  values: Record<string, unknown>,
  registryDir: string,
): { source?: SourceText; problem?: SourceProblem } {
  const inline = model.text ? values[model.text] : undefined;
  const file = model.file ? values[model.file] : undefined;
  const contentType = model.format ? values[model.format] : undefined;
  if (typeof inline === 'string' && typeof file === 'string') {
    return {
      problem: {
        property: model.file!,
        code: codes.schemaViolation,
        message: `give either ${model.text} (inline text) or ${model.file}, not both`,
      },
    };
  }
  if (typeof inline === 'string') {
    const format = typeof contentType === 'string' ? (byContentType[contentType] ?? 'text') : 'markdown';
    return checked({ text: inline, format }, model.text!);
  }
  if (typeof file !== 'string') return {};
  const ext = extname(file).toLowerCase();
  const format =
    typeof contentType === 'string' && contentType in byContentType ? byContentType[contentType] : byExtension[ext];
  const problem = (code: DiagnosticCode, message: string) => ({ problem: { property: model.file!, code, message } });
  if (contentType === 'pdf' || ext === '.pdf') {
    return problem(
      codes.badDocument,
      `'${file}' is a PDF, whose text Canon does not extract; ` +
        `convert it to markdown or text and point ${model.file} at that`,
    );
  }
  if (!format) {
    return problem(
      codes.badDocument,
      `cannot tell the format of '${file}': ` +
        `use a .md, .txt, .html, .json or .csv file, or set ${model.format ?? 'the format'}`,
    );
  }
  if (isAbsolute(file))
    return problem(
      codes.outsideRegistry,
      `${model.file} '${file}' must be relative to the registry folder, not absolute`,
    );
  const path = join(registryDir, file);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return problem(
      codes.unreadable,
      code === 'ENOENT'
        ? `${model.file} '${file}' does not exist; the path is relative to the registry folder`
        : `cannot read ${model.file} '${file}': ${code ?? (e as Error).message}`,
    );
  }
  const inside = relative(realpathSync(registryDir), real);
  if (inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
    return problem(
      codes.outsideRegistry,
      `${model.file} '${file}' leads outside the registry folder; keep knowledge files inside it`,
    );
  }
  const read = readBounded(real);
  if ('error' in read) return problem(codes.unreadable, `cannot read ${model.file} '${file}': ${read.error}`);
  const bad = firstInvalidUtf8(read.bytes);
  if (bad >= 0)
    return problem(
      codes.unreadable,
      `${model.file} '${file}' is not UTF-8 text (invalid byte at offset ${bad}); save it as UTF-8`,
    );
  const nul = read.bytes.indexOf(0);
  if (nul >= 0) {
    const before = read.bytes.subarray(0, nul);
    const line = before.filter((b) => b === 0x0a).length + 1;
    return problem(
      codes.nulCharacter,
      `${model.file} '${file}' holds U+0000 (a NUL character) on its line ${line}, which PostgreSQL text ` +
        'cannot store; remove it from the file',
    );
  }
  return checked({ text: new TextDecoder().decode(read.bytes), format }, model.file!, file);
}

/** A regular file of bounded size (a FIFO or /dev/zero must not hang or exhaust memory). */
function readBounded(path: string): { bytes: Uint8Array } | { error: string } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { error: 'not a regular file' };
    if (stat.size > maxSourceFileBytes)
      return { error: `${stat.size} bytes, over the limit of ${maxSourceFileBytes}; split it into several sources` };
    const bytes = new Uint8Array(stat.size);
    let offset = 0;
    while (offset < bytes.length) {
      const n = readSync(fd, bytes, offset, bytes.length - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    return { bytes: bytes.subarray(0, offset) };
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The text parses as its format (JSON, CSV), so a plan never fails on it later. */
function checked(
  source: SourceText,
  property: string,
  file?: string,
): { source?: SourceText; problem?: SourceProblem } {
  try {
    sectionsOf(source.text, source.format);
    return { source };
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    return {
      problem: { property, code: codes.badDocument, message: `${file ? `'${file}'` : property} is ${e.message}` },
    };
  }
}
