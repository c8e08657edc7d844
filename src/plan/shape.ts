import type { KindCatalog, KindModel } from '../kinds/model.ts';
import type { SqlType } from '../kinds/sql-type.ts';

/** A column as the row stages see it: where its value comes from and how to normalize it. */
export interface ShapeColumn {
  column: string;
  property: string;
  type: SqlType;
  /** References hold database ids; `target` is the referenced kind. */
  target?: string;
  default?: boolean | number;
  /** A list whose order means nothing (the schema says uniqueItems): compared and stored sorted. */
  set?: true;
}

export interface RelationShape {
  table: string;
  property: string;
  ownerColumn: string;
  keyColumns: string[];
  columns: ShapeColumn[];
}

/** The row shape of one kind, derived from its catalog entry. */
export interface KindShape {
  kind: string;
  table: string;
  columns: ShapeColumn[];
  relations: RelationShape[];
  model: KindModel;
}

const uuidType: SqlType = { name: 'uuid' };

export function shapeOf(model: KindModel): KindShape {
  const columns: ShapeColumn[] = [
    ...model.columns.map((c) => ({
      column: c.column,
      property: c.property,
      type: c.type,
      ...(c.default === undefined ? {} : { default: c.default }),
      ...(c.set ? { set: c.set } : {}),
    })),
    ...model.references.map((r) => ({
      column: r.column,
      property: r.property,
      type: r.many ? { ...uuidType, array: true } : uuidType,
      target: r.target,
      ...(r.set ? { set: r.set } : {}),
    })),
  ];
  const relations = model.relations.map((rel) => {
    const relColumns: ShapeColumn[] = [
      ...rel.columns.map((c) => ({
        column: c.column,
        property: c.property,
        type: c.type,
        ...(c.default === undefined ? {} : { default: c.default }),
        ...(c.set ? { set: c.set } : {}),
      })),
      ...rel.references.map((r) => ({ column: r.column, property: r.property, type: uuidType, target: r.target })),
    ];
    const keyColumns = rel.key.map((k) => relColumns.find((c) => c.property === k)!.column);
    return { table: rel.table, property: rel.property, ownerColumn: rel.ownerColumn, keyColumns, columns: relColumns };
  });
  return { kind: model.kind, table: model.table, columns, relations, model };
}

export function shapesOf(catalog: KindCatalog): Map<string, KindShape> {
  return new Map([...catalog.kinds.values()].map((m) => [m.kind, shapeOf(m)]));
}

/**
 * Kinds ordered so that referenced kinds come first (parents before children), counting references
 * from relation tables too; references within a table and cycles between kinds are left to deferred
 * foreign keys.
 */
export function dependencyOrder(shapes: ReadonlyMap<string, KindShape>): KindShape[] {
  const ordered: KindShape[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (shape: KindShape) => {
    if (state.get(shape.kind)) return;
    state.set(shape.kind, 'visiting');
    const targets = [...shape.columns, ...shape.relations.flatMap((r) => r.columns)].map((c) => c.target);
    for (const target of targets) {
      if (target && target !== shape.kind && state.get(target) !== 'visiting') visit(shapes.get(target)!);
    }
    state.set(shape.kind, 'done');
    ordered.push(shape);
  };
  for (const shape of [...shapes.values()].sort((a, b) => a.kind.localeCompare(b.kind))) visit(shape);
  return ordered;
}
