import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRegistry } from '../../src/apply/apply.ts';
import { type Database, openDatabase } from '../../src/db/open.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { displayPath } from '../../src/load/load.ts';
import { applyMigration, planMigration } from '../../src/migrate/migrate.ts';
import { planRegistry } from '../../src/pipeline/plan.ts';
import type { DeleteMode } from '../../src/plan/model.ts';
import { renderPlanMarkdown } from '../../src/render/plan/markdown.ts';
import { writeSyntheticRegistry } from '../bench/synthetic.ts';
import { catalog, options } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

// One folder per case: before/ is applied to a fresh embedded database, after/ is planned against it,
// and the pull-request comment is compared with expected.md. A case.json may add properties to kinds'
// schemas on either side (schema changes) and choose the delete mode. Rewrite with UPDATE_GOLDEN=1.
const casesDir = join(import.meta.dirname, 'markdown');

type SchemaEdits = Record<string, Record<string, unknown>>;
interface Case {
  deleteMode?: DeleteMode;
  /** Plan knowledge chunks and embedding jobs (the vector column is created). */
  embeddings?: boolean;
  before?: SchemaEdits;
  after?: SchemaEdits;
}

/** The repository's schemas with extra properties on some kinds, in a folder of their own. */
function schemasWith(edits: SchemaEdits = {}): string {
  const dir = tempDir('canon-schemas-');
  cpSync('schemas', dir, { recursive: true });
  for (const [kind, properties] of Object.entries(edits)) {
    const file = join(dir, `${kind}.schema.json`);
    const schema = JSON.parse(readFileSync(file, 'utf8'));
    Object.assign(schema.properties, properties);
    writeFileSync(file, JSON.stringify(schema, null, 2));
  }
  return dir;
}

// Creating the schema is most of a case's time: each case starts from a clone of one migrated database.
let migrated: Promise<Database> | undefined;
afterAll(async () => (await migrated)?.close());

async function freshDatabase(): Promise<Database> {
  migrated ??= openDatabase({ backend: 'pglite', dataDir: null }).then(async (db) => {
    await applyMigration(db, await planMigration(db, catalog, options('.', false).schema), { allowDestructive: false });
    return db;
  });
  // clone() is typed as the interface; it returns a PGlite.
  const clone = (await (await migrated).pglite!.clone()) as PGlite;
  return openDatabase({ backend: 'pglite', dataDir: null }, { pglite: clone });
}

async function planMarkdown(before: string, after: string, spec: Case) {
  const db = await freshDatabase();
  try {
    const beforeCatalog = loadKindCatalog(schemasWith(spec.before));
    const applied = await applyRegistry(db, {
      ...options(before, spec.embeddings ?? false),
      catalog: beforeCatalog,
      allowDelete: true,
      allowDestructive: true,
    });
    expect(applied.status).toBe('applied');
    const afterCatalog = loadKindCatalog(schemasWith(spec.after));
    const deleteMode = spec.deleteMode ?? 'soft';
    const planOptions = { ...options(after, spec.embeddings ?? false), catalog: afterCatalog, deleteMode };
    const outcome = await planRegistry(db, planOptions);
    if (!outcome.ok) throw new Error(outcome.diagnostics.map((d) => d.message).join('; '));
    // Paths are made stable before rendering, not after: the comment's size budget counts them, and
    // the temporary folder's path (relative to the working directory) differs from run to run.
    for (const c of outcome.plan.changes) {
      if (c.source) c.source = { ...c.source, file: c.source.file.replaceAll(displayPath(after), '<registry>') };
    }
    const markdown = renderPlanMarkdown(outcome.plan, { schema: outcome.migration.schemaName });
    return { plan: outcome.plan, markdown: markdown.replaceAll(displayPath(after), '<registry>') };
  } finally {
    await db.close();
    await db.pglite!.close();
  }
}

function compare(name: string, actual: string) {
  const file = join(casesDir, name, 'expected.md');
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/** The visible text: what a reader sees once GitHub hides the HTML comment. */
const visibleLines = (markdown: string) =>
  markdown.split('\n').filter((l) => l.trim() !== '' && !/^<!--.*-->$/.test(l));

/** The risk block: the alert right after the target and summary, before any table or section. */
function riskBlockOf(markdown: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf('> [!CAUTION]');
  expect(start, 'a risk block').toBeGreaterThan(0);
  const before = lines.slice(0, start);
  const tableOrSection = before.some((l) => l.startsWith('|') || l.startsWith('<details>'));
  expect(tableOrSection, 'only the target and the summary come before the risks').toBe(false);
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('>'));
  return lines.slice(start, end);
}

describe('the pull-request comment, golden', () => {
  for (const name of readdirSync(casesDir)
    .filter((n) => existsSync(join(casesDir, n, 'before')))
    .sort()) {
    it(name, async () => {
      const dir = join(casesDir, name);
      const caseFile = join(dir, 'case.json');
      const spec: Case = existsSync(caseFile) ? JSON.parse(readFileSync(caseFile, 'utf8')) : {};
      const { markdown } = await planMarkdown(join(dir, 'before'), join(dir, 'after'), spec);
      compare(name, markdown);
      expect(markdown.split('\n')[0]).toBe('<!-- canon-plan: memory: (schema public) -->');
    });
  }

  it('no changes: one short visible line under the marker', () => {
    const text = readFileSync(join(casesDir, 'no-changes', 'expected.md'), 'utf8');
    expect(visibleLines(text)).toEqual([
      '**Canon plan** for `memory:` · schema `public`: no changes (3 assets match the registry).',
    ]);
  });

  it('a small update has no risk block', () => {
    const text = readFileSync(join(casesDir, 'small-update', 'expected.md'), 'utf8');
    expect(text).not.toContain('[!CAUTION]');
    expect(text).toContain('**0** to create, **2** to update, **0** to delete, 1 unchanged');
  });

  it('risks come first: hard deletes, the destructive schema change and the widening policy change', () => {
    const block = riskBlockOf(readFileSync(join(casesDir, 'risks', 'expected.md'), 'utf8')).join('\n');
    expect(block).toContain(
      '**2 assets will be hard-deleted (rows and relation rows removed for good)**: ' +
        'Tool retired-tool; Prompt old-summary (tenant acme) — apply needs `--allow-delete`',
    );
    expect(block).toContain('**1 destructive schema change can lose data**: drop column tools.legacy_code (');
    expect(block).toContain(') — apply needs `--allow-destructive`');
    expect(block).toMatch(/policy changes? widens? what tenants can access\*\*: .*grant select, insert .* on tools to/);
  });

  it('embedding re-runs are a risk, with their token estimate', () => {
    const block = riskBlockOf(readFileSync(join(casesDir, 'embedding-runs', 'expected.md'), 'utf8')).join('\n');
    expect(block).toMatch(/\*\*2 chunks are \(re-\)embedded after apply, ~\d+ tokens for [\w-]+\*\*: /);
    expect(block).toMatch(/knowledge_sources\/off-label-policy: 2 jobs \(~\d+ tokens\) — 'canon embed' runs the jobs$/);
  });

  it('secrets in values are masked on every line, from the registry and from the live row', () => {
    const text = readFileSync(join(casesDir, 'secrets-masked', 'expected.md'), 'utf8');
    for (const line of text.split('\n')) expect(line).not.toMatch(/SECRET/);
    expect(text).toContain('https://svc-user:***@billing.example.com/v2?token=***&amp;region=eu');
    expect(text).toContain('postgres://report:***@db.example.com:5432/reports');
  });

  it('a plan of over 5,000 changes stays under 65,536 characters with its risk block whole', async () => {
    const root = tempDir('canon-md-large-');
    const before = join(root, 'before');
    const after = join(root, 'after');
    writeSyntheticRegistry(before, 5100);
    writeSyntheticRegistry(after, 5100);
    const files = readdirSync(after).sort();
    // The last two files hold the last agents and the tasks that reference them: 100 deletes.
    for (const file of files.slice(-2)) rmSync(join(after, file));
    for (const file of files.slice(0, -2)) {
      const text = readFileSync(join(after, file), 'utf8');
      const edited = text
        .replaceAll('Line 1:', 'Line one:')
        .replaceAll('reliability_score: 0.95', 'reliability_score: 0.97')
        .replaceAll('- b\n', '- c\n');
      writeFileSync(join(after, file), edited);
    }
    const spec = JSON.parse(readFileSync(join(casesDir, 'risks', 'case.json'), 'utf8')) as Case;
    const { plan, markdown } = await planMarkdown(before, after, { ...spec, deleteMode: 'soft' });
    expect(plan.changes.length).toBeGreaterThanOrEqual(5000);
    expect(markdown.length).toBeLessThan(65_536);
    const block = riskBlockOf(markdown);
    expect(block).toHaveLength(5);
    expect(block[2]).toMatch(/^> - \*\*100 assets will be deleted \(soft: deleted_at is set, the rows stay\)\*\*: /);
    expect(block[2]).toMatch(/; and 90 more — apply needs `--allow-delete`$/);
    expect(block[3]).toContain('**1 destructive schema change can lose data**: drop column tools.legacy_code');
    expect(block[4]).toContain('widens what tenants can access**');
    const shown = (markdown.match(/<details><summary><code>[~-]<\/code>/g) ?? []).length;
    expect(shown).toBeGreaterThan(10);
    expect(markdown).toContain(`… ${plan.changes.length - shown} more changes not shown (0 create, `);
    compare('large-5000', markdown.replaceAll(displayPath(after), '<registry>'));
    // In a workflow the footer points at the run that uploaded the whole plan.
    const run = 'https://github.com/acme/registry/actions/runs/42';
    const linked = renderPlanMarkdown(plan, { fullPlanUrl: run });
    expect(linked.length).toBeLessThan(65_536);
    expect(linked.trimEnd().split('\n').at(-1)).toMatch(
      /^… \d+ more changes not shown \(.*\) to stay under GitHub's comment size; all of them are in the JSON plan uploaded by \[this run\]\(https:\/\/github\.com\/acme\/registry\/actions\/runs\/42\), or `canon plan --format json`\.$/,
    );
  }, 300_000);
});
