import type { QuerySqlToken } from 'slonik';
import { sql } from '../db/sql.ts';
import { type Fragment, id, integerLiteral, typeSql } from '../migrate/fragments.ts';
import type { DescribedStatement, DesiredSchema } from '../migrate/model.ts';
import { exactJson } from '../plan/exact-json.ts';
import { type AssetChange, hasChanges, type Plan } from '../plan/model.ts';
import { contentHash, sortKeys } from '../plan/normalize.ts';
import { dependencyOrder, type KindShape, type RelationShape, type ShapeColumn } from '../plan/shape.ts';
import type { AssetState } from '../plan/state.ts';
import type { Row } from '../resolve/graph.ts';
import { uuidV5 } from '../resolve/uuid.ts';

/** The advisory lock every apply takes, so two applies to one database run one after the other. */
export const applyLockKey = 4_242_424_242;

/** One statement apply runs, with what it is for. */
export interface CompiledStatement {
  purpose: string;
  query: QuerySqlToken;
  /** How many rows it writes, for the plan's SQL view and progress. */
  rows: number;
  /** The assets whose rows it writes, so a database error can name the asset and its file. */
  assets?: Pick<AssetChange, 'kind' | 'id' | 'tenant' | 'uuid' | 'source'>[];
}

export interface CompileOptions {
  shapes: ReadonlyMap<string, KindShape>;
  schema: DesiredSchema;
  /** DDL from the migration plan, run first. */
  ddl: readonly DescribedStatement[];
  canonVersion: string;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  /** Assets per statement of a kind's writes: set-based, but bounded (default 5,000). */
  writeBatch?: number;
}

const q = (fragment: Fragment) => sql.unsafe`${fragment}`;
/** Rows as one json parameter (keys sorted, integers beyond 2^53 written exactly). */
const recordset = (rows: Row[], columns: { column: string; type: ShapeColumn['type'] }[]) =>
  sql.fragment`json_to_recordset(${exactJson(sortKeys(rows))}::json) AS x(${sql.join(
    columns.map((c) => sql.fragment`${id(c.column)} ${typeSql(c.type)}`),
    sql.fragment`, `,
  )})`;

/**
 * A statement whose SQL, and with it the JSON text of its rows (megabytes at 5,000 assets), is built
 * each time it is read rather than held: apply reads it once, when it runs it, so a 100k-asset apply
 * keeps one statement's text in memory instead of all of them.
 */
function builtOnRead(statement: Omit<CompiledStatement, 'query'>, build: () => QuerySqlToken): CompiledStatement {
  Object.defineProperty(statement, 'query', { enumerable: true, configurable: true, get: build });
  return statement as CompiledStatement;
}

/** The apply's id, derived from the plan so `--format sql` shows exactly what apply runs. */
export const applyIdOf = (plan: Plan) => uuidV5(`apply/${plan.planHash}`);

const withoutNulls = (row: Row) => Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null));

/** What entity_versions keeps of an asset: its content as the diff saw it (NULL columns left out, to keep it small). */
const versionData = (state: AssetState) => ({
  columns: withoutNulls(state.columns),
  relations: Object.fromEntries(
    Object.entries(state.relations)
      .filter(([, e]) => Object.keys(e).length > 0)
      .map(([t, e]) => [t, Object.values(e).map(withoutNulls)]),
  ),
});

/**
 * Plan → SQL: set-based statements per table (rows as one json parameter through
 * json_to_recordset), writing only what the plan found changed, ordered parents before children
 * and deletes in reverse. Every statement is idempotent: running the list twice changes nothing more.
 */
export function compilePlan(plan: Plan, options: CompileOptions): CompiledStatement[] {
  if (!hasChanges(plan)) return [];
  const out: CompiledStatement[] = [];
  const applyId = applyIdOf(plan);
  out.push(
    {
      purpose: 'session limits',
      query: q(
        sql.fragment`SELECT set_config('statement_timeout', ${String(options.statementTimeoutMs)}, true),
          set_config('lock_timeout', ${String(options.lockTimeoutMs)}, true)`,
      ),
      rows: 0,
    },
    { purpose: 'check references at commit', query: q(sql.fragment`SET CONSTRAINTS ALL DEFERRED`), rows: 0 },
  );
  for (const { purpose, statement } of options.ddl) out.push({ purpose, query: q(statement), rows: 0 });
  // Creates, updates, deletes and schema changes, as literals (they are facts of the plan, not input).
  const counts = sql.join(
    [plan.summary.create, plan.summary.update, plan.summary.delete, plan.schema.length].map((n) => integerLiteral(n)),
    sql.fragment`, `,
  );
  out.push({
    purpose: 'record the apply',
    query: q(sql.fragment`INSERT INTO canon_applies
        (id, plan_hash, git_commit, creates, updates, deletes, schema_changes, canon_version, applied_by)
      VALUES (${applyId}, ${plan.planHash}, ${plan.gitCommit}, ${counts}, ${options.canonVersion}, current_user)
      ON CONFLICT (id) DO NOTHING`),
    rows: 1,
  });
  const ordered = dependencyOrder(options.shapes);
  const writes = plan.changes.filter((c) => c.action !== 'delete');
  for (const shape of ordered) {
    const ofKind = writes.filter((c) => c.kind === shape.kind);
    // In batches: one statement's rows are one JSON text, serialized again into the driver's buffer
    // and parsed whole by the server; at 100k assets one statement per table peaked at hundreds of MB.
    const writeBatch = options.writeBatch ?? 5_000;
    for (let start = 0; start < ofKind.length; start += writeBatch) {
      const changes = ofKind.slice(start, start + writeBatch);
      const assets = changes.map(({ kind, id, tenant, uuid, source }) => ({ kind, id, tenant, uuid, source }));
      const statements = [upsertCore(shape, changes)];
      for (const rel of shape.relations) statements.push(...relationStatements(rel, changes, options.schema));
      for (const statement of statements) out.push(Object.assign(statement, { assets }));
    }
  }
  const deletes = plan.changes.filter((c) => c.action === 'delete');
  for (const shape of [...ordered].reverse()) {
    const ids = deletes.filter((c) => c.kind === shape.kind).map((c) => c.uuid);
    if (ids.length === 0) continue;
    const t = id(shape.table);
    const list = sql.array(ids, 'uuid');
    if (plan.deleteMode === 'hard') {
      out.push({
        purpose: `delete ${shape.table}`,
        query: q(sql.fragment`DELETE FROM ${t} WHERE id = ANY(${list})`),
        rows: ids.length,
      });
      out.push({
        purpose: 'forget deleted rows',
        query: q(
          sql.fragment`DELETE FROM canon_managed_rows WHERE table_name = ${shape.table} AND row_id = ANY(${list})`,
        ),
        rows: ids.length,
      });
    } else {
      out.push({
        purpose: `soft-delete ${shape.table}`,
        query: q(
          sql.fragment`UPDATE ${t} SET deleted_at = now(), updated_at = now()
            WHERE id = ANY(${list}) AND deleted_at IS NULL`,
        ),
        rows: ids.length,
      });
    }
  }
  // In the same batches as the writes: one statement for all versions of a 100k apply was one JSON text
  // of every asset's content.
  const bookkeepingBatch = options.writeBatch ?? 5_000;
  for (let start = 0; start < writes.length; start += bookkeepingBatch) {
    const batch = writes.slice(start, start + bookkeepingBatch);
    out.push(managedRowsStatement(batch, applyId), versionsStatement(batch, applyId));
  }
  out.push({
    purpose: 'finish the apply record',
    query: q(
      sql.fragment`UPDATE canon_applies SET finished_at = clock_timestamp(),
        duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::int WHERE id = ${applyId}`,
    ),
    rows: 1,
  });
  return out;
}

/** The canon_managed_rows record of a written asset: the hash drift detection compares with. */
export const managedRecord = (c: AssetChange, applyId: string | null) => ({
  table_name: c.table,
  row_id: c.uuid,
  kind: c.kind,
  asset_id: c.id,
  tenant: c.tenant,
  content_hash: contentHash(c.after),
  apply_id: applyId,
});

/** The entity_versions record of a written asset: its content as written. */
export const versionRecord = (c: AssetChange, applyId: string | null) => ({
  entity_type: c.kind,
  entity_id: c.uuid,
  version: c.version,
  data: versionData(c.after!),
  apply_id: applyId,
});

function managedRowsStatement(writes: AssetChange[], applyId: string): CompiledStatement {
  const managed = () => writes.map((c) => managedRecord(c, applyId));
  return builtOnRead({ purpose: 'record managed rows', rows: writes.length }, () =>
    q(sql.fragment`INSERT INTO canon_managed_rows
          (table_name, row_id, kind, asset_id, tenant, content_hash, apply_id)
        SELECT x.table_name, x.row_id, x.kind, x.asset_id, x.tenant, x.content_hash, x.apply_id FROM ${recordset(
          managed(),
          [
            { column: 'table_name', type: { name: 'text' } },
            { column: 'row_id', type: { name: 'uuid' } },
            { column: 'kind', type: { name: 'text' } },
            { column: 'asset_id', type: { name: 'text' } },
            { column: 'tenant', type: { name: 'text' } },
            { column: 'content_hash', type: { name: 'text' } },
            { column: 'apply_id', type: { name: 'uuid' } },
          ],
        )}
        ON CONFLICT (table_name, row_id) DO UPDATE SET kind = EXCLUDED.kind, asset_id = EXCLUDED.asset_id,
          tenant = EXCLUDED.tenant,
          content_hash = EXCLUDED.content_hash, apply_id = EXCLUDED.apply_id, applied_at = now()
        WHERE canon_managed_rows.content_hash IS DISTINCT FROM EXCLUDED.content_hash`),
  );
}

function versionsStatement(writes: AssetChange[], applyId: string): CompiledStatement {
  const versions = () => writes.map((c) => versionRecord(c, applyId));
  return builtOnRead({ purpose: 'record versions', rows: writes.length }, () =>
    q(sql.fragment`INSERT INTO entity_versions (entity_type, entity_id, version, data, apply_id, created_by)
        SELECT x.entity_type, x.entity_id, x.version, x.data, x.apply_id, current_user FROM ${recordset(versions(), [
          { column: 'entity_type', type: { name: 'varchar', length: 50 } },
          { column: 'entity_id', type: { name: 'uuid' } },
          { column: 'version', type: { name: 'integer' } },
          { column: 'data', type: { name: 'jsonb' } },
          { column: 'apply_id', type: { name: 'uuid' } },
        ])}
        ON CONFLICT (entity_id, version) DO NOTHING`),
  );
}

function upsertCore(shape: KindShape, changes: AssetChange[]): CompiledStatement {
  const t = id(shape.table);
  const columns = shape.columns.filter((c) => c.column !== 'id');
  const rows = changes.map((c) => ({ id: c.uuid, version: c.version, ...c.after!.columns }));
  const all = [
    { column: 'id', type: { name: 'uuid' as const } },
    { column: 'version', type: { name: 'integer' as const } },
    ...columns,
  ];
  const names = sql.join(
    columns.map((c) => id(c.column)),
    sql.fragment`, `,
  );
  const excluded = sql.join(
    columns.map((c) => sql.fragment`EXCLUDED.${id(c.column)}`),
    sql.fragment`, `,
  );
  const current = sql.join(
    columns.map((c) => sql.fragment`${t}.${id(c.column)}`),
    sql.fragment`, `,
  );
  return builtOnRead({ purpose: `upsert ${shape.table}`, rows: rows.length }, () =>
    q(sql.fragment`INSERT INTO ${t} (id, version, ${names})
      SELECT x.id, x.version, ${sql.join(
        columns.map((c) => sql.fragment`x.${id(c.column)}`),
        sql.fragment`, `,
      )} FROM ${recordset(rows, all)}
      ON CONFLICT (id) DO UPDATE SET (version, deleted_at, updated_at, ${names})
        = (EXCLUDED.version, NULL, now(), ${excluded})
      WHERE (${t}.version, ${t}.deleted_at IS NULL, ${current})
        IS DISTINCT FROM (EXCLUDED.version, true, ${excluded})`),
  );
}

function relationStatements(rel: RelationShape, changes: AssetChange[], schema: DesiredSchema): CompiledStatement[] {
  const t = id(rel.table);
  const owner = { column: rel.ownerColumn, type: { name: 'uuid' as const } };
  const removed: Row[] = [];
  const upserts: Row[] = [];
  for (const c of changes) {
    const before = c.before?.relations[rel.table] ?? {};
    const after = c.after!.relations[rel.table] ?? {};
    for (const [key, row] of Object.entries(before))
      if (!(key in after)) removed.push({ [rel.ownerColumn]: c.uuid, ...row });
    for (const [key, row] of Object.entries(after)) {
      if (c.adopt || JSON.stringify(before[key]) !== JSON.stringify(row))
        upserts.push({ [rel.ownerColumn]: c.uuid, ...row });
    }
  }
  const out: CompiledStatement[] = [];
  const keyColumns = rel.keyColumns.map((k) => rel.columns.find((c) => c.column === k)!);
  if (removed.length > 0) {
    const match = sql.join(
      keyColumns.map((c) => sql.fragment`r.${id(c.column)} IS NOT DISTINCT FROM x.${id(c.column)}`),
      sql.fragment` AND `,
    );
    out.push(
      builtOnRead({ purpose: `remove ${rel.table} entries`, rows: removed.length }, () =>
        q(
          sql.fragment`DELETE FROM ${t} AS r USING ${recordset(removed, [owner, ...keyColumns])}
          WHERE r.${id(rel.ownerColumn)} = x.${id(rel.ownerColumn)} AND ${match}`,
        ),
      ),
    );
  }
  if (upserts.length > 0) {
    const entryKey = schema.constraints.find(
      (c) => c.kind === 'unique' && c.table === rel.table && c.columns[0] === rel.ownerColumn,
    )!;
    const columns = [owner, ...rel.columns];
    const names = sql.join(
      columns.map((c) => id(c.column)),
      sql.fragment`, `,
    );
    const values = rel.columns.filter((c) => !rel.keyColumns.includes(c.column));
    const onConflict =
      values.length === 0
        ? sql.fragment`DO NOTHING`
        : sql.fragment`DO UPDATE SET (updated_at, ${sql.join(
            values.map((c) => id(c.column)),
            sql.fragment`, `,
          )}) = (now(), ${sql.join(
            values.map((c) => sql.fragment`EXCLUDED.${id(c.column)}`),
            sql.fragment`, `,
          )})
          WHERE (${sql.join(
            values.map((c) => sql.fragment`${t}.${id(c.column)}`),
            sql.fragment`, `,
          )}) IS DISTINCT FROM (${sql.join(
            values.map((c) => sql.fragment`EXCLUDED.${id(c.column)}`),
            sql.fragment`, `,
          )})`;
    out.push(
      builtOnRead({ purpose: `upsert ${rel.table} entries`, rows: upserts.length }, () =>
        q(sql.fragment`INSERT INTO ${t} (${names}) SELECT ${sql.join(
          columns.map((c) => sql.fragment`x.${id(c.column)}`),
          sql.fragment`, `,
        )} FROM ${recordset(upserts, columns)}
        ON CONFLICT ON CONSTRAINT ${id(entryKey.name)} ${onConflict}`),
      ),
    );
  }
  return out;
}
