import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { formatSqlType } from '../../src/kinds/sql-type.ts';
import { applyMigration, DestructiveChangeError, planMigration } from '../../src/migrate/migrate.ts';
import { backendsAndSchemas } from '../support/databases.ts';
import { tempDir } from '../support/temp.ts';

const catalog = loadKindCatalog('schemas');
const columnsOf = (db: Database, table: string) =>
  db.pool.any(sql.type(z.object({ name: z.string(), type: z.string(), not_null: z.boolean() }))`
    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
    FROM pg_attribute a WHERE a.attrelid = ${table}::regclass AND a.attnum > 0 AND NOT a.attisdropped`);

function schemasWith(edit: (dir: string) => void): string {
  const dir = tempDir('canon-schemas-');
  for (const f of readdirSync('schemas')) cpSync(join('schemas', f), join(dir, f));
  edit(dir);
  return dir;
}

function editSchema(dir: string, kind: string, edit: (schema: any) => void) {
  const path = join(dir, `${kind}.schema.json`);
  const schema = JSON.parse(readFileSync(path, 'utf8'));
  edit(schema);
  writeFileSync(path, JSON.stringify(schema));
}

for (const backend of backendsAndSchemas) {
  describe(`migrate on ${backend.label}`, () => {
    const options = { embeddings: backend.vector, dimensions: 384 };
    const migrated = async (db: Database) => {
      await applyMigration(db, await planMigration(db, catalog, options), { allowDestructive: false });
    };
    let db: Database;
    afterEach(async () => db?.close());

    it('creates every table the schemas define, with their columns and types, then plans nothing', async () => {
      db = await backend.open();
      const plan = await planMigration(db, catalog, options);
      expect(plan.destructive).toEqual([]);
      await applyMigration(db, plan, { allowDestructive: false });
      for (const model of catalog.kinds.values()) {
        const live = new Map((await columnsOf(db, model.table)).map((c) => [c.name, c]));
        for (const column of model.columns) {
          expect(live.get(column.column)?.type, `${model.table}.${column.column}`).toBe(formatSqlType(column.type));
          expect(live.get(column.column)?.not_null, `${model.table}.${column.column} NOT NULL`).toBe(column.required);
        }
        for (const relation of model.relations)
          expect((await columnsOf(db, relation.table)).map((c) => c.name)).toContain(relation.ownerColumn);
      }
      const again = await planMigration(db, catalog, options);
      expect(again.changes).toEqual([]);
    });

    it('keeps unique_id unique per tenant, shared rows included (NULLS NOT DISTINCT)', async () => {
      db = await backend.openPrepared('migrated', migrated);
      const tenant = await db.pool.oneFirst(
        sql.type(
          z.object({ id: z.string() }),
        )`INSERT INTO tenants (unique_id, name) VALUES ('acme', 'Acme') RETURNING id`,
      );
      await db.pool.query(sql.unsafe`INSERT INTO prompts (unique_id, name, content) VALUES ('p', 'P', 'x')`);
      await db.pool.query(
        sql.unsafe`INSERT INTO prompts (unique_id, name, content, tenant_id) VALUES ('p', 'P', 'x', ${tenant})`,
      );
      await expect(
        db.pool.query(sql.unsafe`INSERT INTO prompts (unique_id, name, content) VALUES ('p', 'P again', 'y')`),
      ).rejects.toThrow(/unique/i);
      await expect(
        db.pool.query(
          sql.unsafe`INSERT INTO prompts (unique_id, name, content, complexity_level) VALUES ('q', 'Q', 'x', 'medium')`,
        ),
      ).rejects.toThrow(/check/i);
      await db.pool.query(
        sql.unsafe`INSERT INTO workflows (unique_id, name, code, tenant_id) VALUES ('a', 'A', 'WF001', ${tenant})`,
      );
      await db.pool.query(sql.unsafe`INSERT INTO workflows (unique_id, name, code) VALUES ('a', 'A', 'WF001')`);
      await expect(
        db.pool.query(sql.unsafe`INSERT INTO workflows (unique_id, name, code) VALUES ('b', 'B', 'WF001')`),
      ).rejects.toThrow(/unique/i);
    });

    it('plans additive changes automatically and refuses destructive ones unless allowed', async () => {
      db = await backend.openPrepared('migrated', migrated);
      await db.pool.query(sql.unsafe`INSERT INTO tools (unique_id, name) VALUES ('t', 'T')`);
      const changed = loadKindCatalog(
        schemasWith((dir) =>
          editSchema(dir, 'Tool', (s) => {
            s.properties.tool_type.maxLength = 80;
            s.properties.tool_type['x-column'].type = 'varchar(80)';
            s.properties.vendor = { type: 'string', 'x-column': { type: 'text' } };
            delete s.properties.rate_limits;
          }),
        ),
      );
      const plan = await planMigration(db, changed, options);
      expect(plan.changes.map((c) => [c.kind, c.destructive])).toEqual([
        ['addColumn', false],
        ['alterColumnType', false],
        ['setPrivileges', false],
        ['dropColumn', true],
      ]);
      const privileges = plan.changes.find((c) => c.kind === 'setPrivileges');
      expect(privileges?.kind === 'setPrivileges' && privileges.privileges.update).toContain('vendor');
      await expect(applyMigration(db, plan, { allowDestructive: false })).rejects.toThrow(DestructiveChangeError);
      expect((await columnsOf(db, 'tools')).map((c) => c.name)).toContain('rate_limits');
      await applyMigration(db, plan, { allowDestructive: true });
      const after = new Map((await columnsOf(db, 'tools')).map((c) => [c.name, c.type]));
      expect(after.get('vendor')).toBe('text');
      expect(after.get('tool_type')).toBe('character varying(80)');
      expect(after.has('rate_limits')).toBe(false);
      expect((await planMigration(db, changed, options)).changes).toEqual([]);
    });

    it('treats NOT NULL over existing NULLs and type narrowing as destructive, and a failed migration changes nothing', async () => {
      db = await backend.openPrepared('migrated', migrated);
      await db.pool.query(
        sql.unsafe`INSERT INTO tools (unique_id, name, tool_type) VALUES ('t', 'T', NULL), ('u', 'U', 'a-rather-long-type-name')`,
      );
      const changed = loadKindCatalog(
        schemasWith((dir) =>
          editSchema(dir, 'Tool', (s) => {
            s.required.push('tool_type');
            s.properties.tool_type['x-column'].type = 'varchar(10)';
          }),
        ),
      );
      const plan = await planMigration(db, changed, options);
      expect(plan.destructive.map((c) => [c.kind, 'reason' in c ? c.reason : ''])).toEqual([
        ['alterColumnType', 'character varying(50) → character varying(10) may not hold every existing value'],
        ['setNotNull', '1 rows hold NULL'],
      ]);
      const before = await columnsOf(db, 'tools');
      await expect(applyMigration(db, plan, { allowDestructive: true })).rejects.toThrow();
      expect(await columnsOf(db, 'tools')).toEqual(before);
    });

    it('builds the chunk table without a vector column when embeddings are off', async () => {
      db = await backend.open();
      await applyMigration(db, await planMigration(db, catalog, { embeddings: false, dimensions: 384 }), {
        allowDestructive: false,
      });
      const columns = (await columnsOf(db, 'knowledge_chunks')).map((c) => c.name);
      expect(columns).toContain('content');
      expect(columns).not.toContain('embedding');
    });

    it('creates the persona analytics view, refreshable concurrently', async () => {
      db = await backend.openPrepared('migrated', migrated);
      await db.pool.query(sql.unsafe`INSERT INTO personas (unique_id, name) VALUES ('p', 'P')`);
      await db.pool.query(sql.unsafe`REFRESH MATERIALIZED VIEW CONCURRENTLY persona_analytics`);
      const row = await db.pool.one(sql.unsafe`SELECT * FROM persona_analytics`);
      expect(row).toMatchObject({ name: 'P', industries_count: 0, roles_count: 0, jtbd_persona_mapping_count: 0 });
    });

    if (backend.vector) {
      it('builds vector(dimensions from configuration) with an HNSW index that answers similarity queries', async () => {
        db = await backend.open();
        await applyMigration(db, await planMigration(db, catalog, { embeddings: true, dimensions: 3 }), {
          allowDestructive: false,
        });
        const embedding = (await columnsOf(db, 'knowledge_chunks')).find((c) => c.name === 'embedding');
        expect(embedding?.type).toBe('vector(3)');
        const source = await db.pool.oneFirst(
          sql.type(
            z.object({ id: z.string() }),
          )`INSERT INTO knowledge_sources (unique_id, name) VALUES ('s', 'S') RETURNING id`,
        );
        await db.pool.query(sql.unsafe`INSERT INTO knowledge_chunks (source_id, chunk_index, content, content_hash, embedding) VALUES
          (${source}, 0, 'near', 'h0', '[1,0,0]'), (${source}, 1, 'far', 'h1', '[0,1,0]')`);
        const nearest = await db.pool.oneFirst(
          sql.type(
            z.object({ content: z.string() }),
          )`SELECT content FROM knowledge_chunks ORDER BY embedding <=> '[0.9,0.1,0]' LIMIT 1`,
        );
        expect(nearest).toBe('near');
        const method = await db.pool.oneFirst(
          sql.type(
            z.object({ amname: z.string() }),
          )`SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.relname = 'knowledge_chunks_embedding_idx'`,
        );
        expect(method).toBe('hnsw');
      });
    } else {
      it('stops with one clear line when the server has no pgvector and embeddings are on', async () => {
        db = await backend.open();
        await expect(planMigration(db, catalog, { embeddings: true, dimensions: 384 })).rejects.toThrow(
          /has no pgvector extension.*--no-embeddings/,
        );
      });
    }
  });
}
