import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRegistry } from '../../src/pipeline/check.ts';
import { createPlanSession, type PlanSession } from '../../src/pipeline/session.ts';
import { assetUuid } from '../../src/resolve/uuid.ts';
import { compileValidators } from '../../src/validate/ajv.ts';
import { catalog, copyRegistry, edit } from '../support/registry.ts';

// A plan session keeps each file's parse and each asset's resolution and redoes only what an edit
// touches. Whatever the edit, its diagnostics and graph must be exactly those of a cold check.
const validators = compileValidators(catalog);
// Each test edits a private copy of the example registry, removed afterwards.
const copies: string[] = [];
const copied = (dir: string) => (copies.push(dirname(dir)), dir);
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function expectSameAsCold(session: PlanSession, dir: string, changed?: string[]) {
  const warm = session.update(changed?.map((f) => join(dir, f)));
  const cold = checkRegistry(dir, catalog, { validators });
  expect(warm.diagnostics).toEqual(cold.diagnostics);
  expect(warm.graph.assets).toEqual(cold.graph.assets);
  expect([...warm.graph.byUuid.keys()]).toEqual([...cold.graph.byUuid.keys()]);
  expect({ files: warm.files, documents: warm.documents }).toEqual({ files: cold.files, documents: cold.documents });
  return warm;
}

const newSession = (dir: string) =>
  createPlanSession({
    dir,
    catalog,
    validators,
    schema: { embeddings: false, dimensions: 8 },
    deleteMode: 'soft',
    gitCommit: () => null,
  });
const errorsOf = (result: { diagnostics: { severity: string }[] }) =>
  result.diagnostics.filter((d) => d.severity === 'error');
const assetsIn = (path: string) => readFileSync(path, 'utf8').match(/^kind: /gm)!.length;
const fileNames = (diagnostics: { code: string; file: string }[], code: string) =>
  diagnostics.filter((d) => d.code === code).map((d) => d.file.split('/').slice(-1)[0]);

describe('plan session: check results equal a cold check', () => {
  it('after each edit of a scripted sequence, re-resolving only what the edit touches', () => {
    const dir = copied(copyRegistry());
    const session = newSession(dir);
    const first = expectSameAsCold(session, dir);
    expect(first.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(first.resolvedAssets).toBe(first.graph.assets.length);

    // Change a field of assets everything refers to: one file parsed again, and only its assets
    // resolved again, since their ids still mean the same rows.
    edit(dir, 'platform/industries.yaml', 'name: ', 'name: Renamed ');
    const changedField = expectSameAsCold(session, dir, ['platform/industries.yaml']);
    expect(changedField.parsedFiles).toBe(1);
    expect(changedField.resolvedAssets).toBe(assetsIn(join(dir, 'platform/industries.yaml')));

    // Add an asset in a new file, referring to existing ones.
    mkdirSync(join(dir, 'platform/extra'), { recursive: true });
    const prompt = 'kind: Prompt\nid: brand-new-prompt\nname: Brand new\ncontent: Say hello.\nindustries: [biotech]\n';
    writeFileSync(join(dir, 'platform/extra/new.yaml'), prompt);
    expectSameAsCold(session, dir, ['platform/extra/new.yaml']);

    // Break a reference from another file: rename a prompt that agents in other files use (did-you-mean included).
    edit(dir, 'platform/prompts.yaml', 'id: literature-summary', 'id: literature-summaries');
    const broken = expectSameAsCold(session, dir, ['platform/prompts.yaml']);
    expect(broken.diagnostics.some((d) => d.code === 'CANON302' && d.file.endsWith('agents.yaml'))).toBe(true);
    edit(dir, 'platform/prompts.yaml', 'id: literature-summaries', 'id: literature-summary');
    expect(errorsOf(expectSameAsCold(session, dir, ['platform/prompts.yaml']))).toEqual([]);

    // A typo'd reference is told the closest id; an asset added later in another file can be closer.
    const tools = (first: string) => `tools: [${first}, clinicaltrials-gov`;
    edit(dir, 'platform/agents.yaml', tools('pubmed-search'), tools('pubmed-sxxrch'));
    const typo = expectSameAsCold(session, dir, ['platform/agents.yaml']);
    expect(typo.diagnostics.find((d) => d.code === 'CANON302')?.message).toContain("Did you mean 'pubmed-search'?");
    const closerTool = 'kind: Tool\nid: pubmed-sxrch\nname: Close\ntool_category: api\n';
    writeFileSync(join(dir, 'platform/extra/closer.yaml'), closerTool);
    const closer = expectSameAsCold(session, dir, ['platform/extra/closer.yaml']);
    expect(closer.diagnostics.find((d) => d.code === 'CANON302')?.message).toContain("Did you mean 'pubmed-sxrch'?");
    rmSync(join(dir, 'platform/extra/closer.yaml'));
    edit(dir, 'platform/agents.yaml', tools('pubmed-sxxrch'), tools('pubmed-search'));
    expectSameAsCold(session, dir, ['platform/extra/closer.yaml', 'platform/agents.yaml']);

    // One id, two kinds, written in files added out of document order: a reference of a third
    // kind is told about the one written first.
    writeFileSync(join(dir, 'tenants/zz.yaml'), 'kind: Skill\nid: shared-name\nname: Skill\nskill_category: domain\n');
    expectSameAsCold(session, dir, ['tenants/zz.yaml']);
    writeFileSync(join(dir, 'platform/aa.yaml'), 'kind: Prompt\nid: shared-name\nname: A prompt\ncontent: x\n');
    edit(dir, 'platform/agents.yaml', tools('pubmed-search'), tools('shared-name'));
    const twoKinds = expectSameAsCold(session, dir, ['platform/aa.yaml', 'platform/agents.yaml']);
    expect(twoKinds.diagnostics.find((d) => d.code === 'CANON303')?.message).toContain("'shared-name' is a Prompt");
    edit(dir, 'platform/agents.yaml', tools('shared-name'), tools('pubmed-search'));
    rmSync(join(dir, 'platform/aa.yaml'));
    rmSync(join(dir, 'tenants/zz.yaml'));
    expectSameAsCold(session, dir, ['platform/aa.yaml', 'platform/agents.yaml', 'tenants/zz.yaml']);

    // Two assets claiming one database id: the later one is the duplicate, and only while both exist.
    const firstRole = readFileSync(join(dir, 'platform/roles.yaml'), 'utf8').match(/^id: (\S+)$/m)![1]!;
    const takenUuid = assetUuid('Role', null, firstRole).toUpperCase();
    writeFileSync(join(dir, 'tenants/claims.yaml'), `kind: Role\nid: claimant\nuuid: ${takenUuid}\nname: Claimant\n`);
    const sameUuid = expectSameAsCold(session, dir, ['tenants/claims.yaml']);
    expect(fileNames(sameUuid.diagnostics, 'CANON301')).toEqual(['claims.yaml']);
    rmSync(join(dir, 'tenants/claims.yaml'));
    expectSameAsCold(session, dir, ['tenants/claims.yaml']);

    // Introduce an error (schema and YAML) and fix it.
    edit(dir, 'platform/tools.yaml', 'name: ', 'nmae: ');
    expect(errorsOf(expectSameAsCold(session, dir, ['platform/tools.yaml'])).length).toBeGreaterThan(0);
    edit(dir, 'platform/tools.yaml', 'nmae: ', 'name: ');
    writeFileSync(join(dir, 'platform/extra/new.yaml'), 'kind: Prompt\nid: [unclosed\n');
    expectSameAsCold(session, dir, ['platform/tools.yaml', 'platform/extra/new.yaml']);

    // Delete a file (the watcher reports a path that no longer exists) and then a whole folder, unreported.
    rmSync(join(dir, 'platform/extra/new.yaml'));
    expectSameAsCold(session, dir, ['platform/extra/new.yaml']);
    rmSync(join(dir, 'tenants/novamed'), { recursive: true });
    expectSameAsCold(session, dir, []);

    // A tenant's parent changes what every tenant can see: everything is resolved again.
    edit(dir, 'platform/tenants.yaml', 'parent: acme-pharma', 'parent: helix-bio');
    const moved = expectSameAsCold(session, dir, ['platform/tenants.yaml']);
    expect(moved.resolvedAssets).toBe(moved.graph.assets.length);

    // The registry folder removed, then back.
    const backup = `${dir}.bak`;
    renameSync(dir, backup);
    expectSameAsCold(session, dir, []);
    renameSync(backup, dir);
    expectSameAsCold(session, dir);
  });

  it('after each of 150 random edits: renames, typos, duplicates, deletes, visibility and tenant changes', () => {
    const dir = copied(copyRegistry());
    const session = newSession(dir);
    expectSameAsCold(session, dir);
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const files = () => listYaml(dir).filter((f) => f !== 'canon.yaml');
    const removed = new Map<string, string>();
    const originals = new Map(files().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    const idsIn = (f: string) => [...readFileSync(join(dir, f), 'utf8').matchAll(/^id: (\S+)$/gm)].map((m) => m[1]!);
    const ids = () => files().flatMap(idsIn);
    const write = (f: string, text: string) => {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), text);
      return [f];
    };
    const mutate = (f: string, change: (text: string) => string) =>
      existsSync(join(dir, f)) ? write(f, change(readFileSync(join(dir, f), 'utf8'))) : [];
    const firstId = /^(id: \S+)$/m;
    const edits: (() => string[] | undefined)[] = [
      // Rename an asset: references to it from anywhere dangle (or resolve to the new id).
      () =>
        mutate(pick(files()), (t) =>
          t.replace(/^id: (\S+)$/m, (_m, id: string) => `id: ${id.endsWith('-x') ? id.slice(0, -2) : `${id}-x`}`),
        ),
      // Point a reference at another id, an existing one or a typo.
      () => {
        const f = pick(files());
        const to = random() < 0.5 ? pick(ids()) : `${pick(ids())}q`;
        return mutate(f, (t) => t.replace(/(prompt|persona|skill|use_case|workflow|parent): [a-z0-9-]+/, `$1: ${to}`));
      },
      // Copy a document into a new file: duplicate ids.
      () => {
        const doc = pick(readFileSync(join(dir, pick(files())), 'utf8').split(/^---$/m));
        return write(`copies/c${Math.floor(random() * 5)}.yaml`, doc);
      },
      // Delete a file, or bring one back.
      () => {
        if (removed.size > 0 && random() < 0.5) {
          const [f, text] = pick([...removed]);
          removed.delete(f);
          return write(f, text);
        }
        const f = pick(files());
        removed.set(f, readFileSync(join(dir, f), 'utf8'));
        rmSync(join(dir, f));
        return [f];
      },
      // Visibility and sharing.
      () =>
        mutate(pick(files()), (t) =>
          t.includes('is_public: true')
            ? t.replace('is_public: true', 'is_public: false')
            : t.replace(firstId, '$1\nis_public: true'),
        ),
      // Move an asset to another tenant, or to the platform.
      () => {
        const f = pick(files());
        const to = pick(['acme-pharma', 'acme-oncology', 'novamed', 'helix-bio', null]);
        return mutate(f, (t) => t.replace(/^tenant: \S+\n/m, '').replace(firstId, to ? `$1\ntenant: ${to}` : '$1'));
      },
      // An explicit database id, set or changed: references to the asset now mean another row.
      () => {
        const hex = (length: number) => Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join('');
        const uuid = `${hex(8)}-0000-4000-8000-${hex(12)}`;
        const f = pick(files());
        const written = random() < 0.5 ? uuid : uuid.toUpperCase();
        return mutate(f, (t) => t.replace(/^uuid: \S+\n/m, '').replace(firstId, `$1\nuuid: ${written}`));
      },
      // The tenant tree.
      () => {
        const parent = pick(['acme-pharma', 'novamed', 'helix-bio', 'acme-oncology']);
        return mutate('platform/tenants.yaml', (t) => t.replace(/^parent: \S+$/m, `parent: ${parent}`));
      },
      // Schema and YAML errors.
      () => {
        const f = pick(files());
        const schemaError = random() < 0.5;
        return mutate(f, (t) => (schemaError ? t.replace(/^name: /m, 'nmae: ') : `${t}\n  bad: [unclosed\n`));
      },
      // Undo: a file back as it was, so the registry also turns healthy again.
      () => {
        const [f, text] = pick([...originals]);
        removed.delete(f);
        return write(f, text);
      },
      // Everything back (a `git checkout .`), every path reported.
      () => {
        const touched = [...new Set([...files(), ...originals.keys()])];
        rmSync(join(dir, 'copies'), { recursive: true, force: true });
        removed.clear();
        for (const [f, text] of originals) write(f, text);
        return touched;
      },
      // A full rescan, nothing named.
      () => undefined,
    ];
    const errors: number[] = [];
    for (let step = 0; step < 150; step++) {
      const changed = pick(edits)();
      // The session is told about files as a watcher would; a full rescan is told nothing.
      const warm = session.update(changed?.map((f) => join(dir, f)));
      const cold = checkRegistry(dir, catalog, { validators });
      expect(warm.diagnostics, `step ${step}`).toEqual(cold.diagnostics);
      expect(warm.graph.assets, `step ${step}`).toEqual(cold.graph.assets);
      errors.push(cold.diagnostics.filter((d) => d.severity === 'error').length);
    }
    // The walk visits healthy registries as well as broken ones.
    expect(errors.filter((n) => n === 0).length).toBeGreaterThan(5);
    expect(errors.filter((n) => n > 0).length).toBeGreaterThan(50);
  });
});

function listYaml(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return listYaml(path, base);
      return name.endsWith('.yaml') ? [relative(base, path)] : [];
    });
}
