import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { withBigInts } from '../plan/exact-json.ts';
import { filesOf, type ImportedDocument } from './documents.ts';

const header = '# Written by canon import. From now on this file, not the database, is the source of truth.\n';

/**
 * One file's text. lineWidth 0: long strings are never folded, so a prompt's text comes back exactly
 * (multi-line strings become block scalars with the chomping indicator their trailing newlines need).
 */
export function fileText(documents: ImportedDocument[]): string {
  return (
    header + documents.map((d) => stringify(withBigInts(d.value), { lineWidth: 0, minContentWidth: 0 })).join('---\n')
  );
}

/** Writes every file under `dir`; returns the paths written, relative to it, sorted. */
export function writeImport(dir: string, documents: ImportedDocument[]): string[] {
  const written: string[] = [];
  for (const [file, list] of filesOf(documents)) {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, fileText(list));
    written.push(file);
  }
  return written;
}
