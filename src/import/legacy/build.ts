import type { KindCatalog, KindModel } from '../../kinds/model.ts';
import type { Row } from '../../resolve/graph.ts';
import {
  type Asset,
  assetKey,
  entryKey,
  type Item,
  isAssetKey,
  label,
  probeText,
  type RowRef,
  rowKey,
} from './assets.ts';
import { conform, itemSchemas, propertySchema } from './conform.ts';
import { type AssetKey, evaluate, matchIn, type Scope, slugify, test } from './expressions.ts';
import type { Expression, LegacyMapping, SourceMapping } from './mapping.ts';
import { sourceName } from './mapping.ts';
import type { Coercion, Outcome, Reconciliation, RowFate } from './reconcile.ts';

/** What was read from the legacy database, in one read-only snapshot. */
export interface LegacyRows {
  rows: Map<string, Row[]>;
  counted: Map<string, number>;
}

/** A mapping that names kinds or properties the catalog lacks: a mistake in the mapping, not in the data. */
export class MappingError extends Error {}

const keyText = (v: unknown) => (v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v));

/**
 * Legacy rows → assets, following the mapping, and a fate for every row: imported, merged into another
 * asset, skipped by a rule, or unaccounted (which fails the import). Sources are taken in file order;
 * ids of every asset source are known before any field is evaluated, so a `ref` may point forwards.
 */
export class LegacyBuilder {
  readonly assets = new Map<string, Asset>();
  private readonly fates = new Map<string, RowFate>();
  private readonly coercions: Coercion[] = [];
  /** Legacy row → the asset it became, or why it became none. */
  private readonly made = new Map<string, { asset: string } | { missing: string }>();
  private readonly pending: { source: SourceMapping; row: Row; ref: RowRef; asset: Asset }[] = [];

  constructor(
    private readonly catalog: KindCatalog,
    private readonly mapping: LegacyMapping,
    private readonly legacy: LegacyRows,
  ) {}

  build() {
    for (const source of this.mapping.sources) this.check(source);
    for (const source of this.mapping.sources) if (source.kind) this.identify(source);
    for (const p of this.pending) this.fill(p.source, p.row, p.ref, p.asset);
    for (const source of this.mapping.sources) if (source.into) this.entries(source);
    for (const source of this.mapping.sources) if (!source.kind && !source.into) this.skipOnly(source);
  }

  /** Every row's fate so far, in source order, and the coercions. */
  reconciliation(): Reconciliation {
    return { rows: [...this.fates.values()], coercions: this.coercions, counted: this.legacy.counted };
  }

  setFate(ref: RowRef, fate: Outcome) {
    this.fates.set(rowKey(ref), { ...ref, fate });
  }
  coerce(ref: RowRef, asset: AssetKey, field: string, reason: string) {
    this.coercions.push({ ...ref, asset: label(asset), field, reason });
  }

  private model(kind: string): KindModel {
    const model = this.catalog.kinds.get(kind);
    if (!model) throw new MappingError(`${this.mapping.file}: kind '${kind}' is not one of the schemas' kinds`);
    return model;
  }

  /** Every property the mapping writes exists on its kind, with the right form (column, reference, list). */
  private check(source: SourceMapping) {
    const where = `${this.mapping.file}: source ${sourceName(source)}`;
    if (source.kind) {
      const model = this.model(source.kind);
      for (const p of Object.keys(source.fields ?? {})) {
        if (!model.columns.some((c) => c.property === p) && !model.references.some((r) => r.property === p && !r.many))
          throw new MappingError(`${where}: '${p}' is not a field of ${model.kind}`);
      }
      for (const [p, templates] of Object.entries(source.relations ?? {})) {
        if (!model.relations.some((r) => r.property === p))
          throw new MappingError(`${where}: '${p}' is not a list of ${model.kind}`);
        for (const template of templates) this.checkEntry(where, model, p, template);
      }
    }
    if (source.into) {
      const owner = this.mapping.sources.find((s) => sourceName(s) === source.into!.source);
      const model = this.model(owner?.kind ?? '');
      const p = source.into.property;
      const column = model.columns.find((c) => c.property === p);
      if (!model.relations.some((r) => r.property === p) && !(column && column.type.name === 'jsonb'))
        throw new MappingError(`${where}: '${p}' is neither a list nor a JSONB field of ${model.kind}`);
      if (!column) this.checkEntry(where, model, p, source.item ?? {});
    }
  }

  /** A list entry template names only properties the list's entries have. */
  private checkEntry(where: string, model: KindModel, property: string, template: Record<string, unknown>) {
    const allowed = Object.keys(itemSchemas(this.catalog, model, property));
    for (const key of Object.keys(template)) {
      if (!allowed.includes(key))
        throw new MappingError(
          `${where}: '${key}' is not a property of ${model.kind} ${property} entries (${allowed.join(', ')})`,
        );
    }
  }

  private rowsOf(source: SourceMapping): { row: Row; ref: RowRef }[] {
    const name = sourceName(source);
    return (this.legacy.rows.get(name) ?? []).map((row) => ({
      row,
      ref: { source: name, key: keyText(row[source.key ?? 'id']) },
    }));
  }

  private scope(onOrphan: (m: string) => void): Scope {
    return {
      lookup: (source, key) => {
        const made = this.made.get(rowKey({ source, key }));
        if (!made) return { missing: `no ${source} row ${key}` };
        if ('missing' in made) return { missing: `${source} row ${key} was not imported (${made.missing})` };
        return { asset: this.assets.get(made.asset)! };
      },
      rows: (source) => this.legacy.rows.get(source) ?? [],
      orphan: onOrphan,
    };
  }

  /** The first skip rule a row meets, with the row it matched for `exists_in`. */
  private skipReason(source: SourceMapping, row: Row): string | undefined {
    const scope = this.scope(() => {});
    for (const rule of source.skip ?? []) {
      if (!test(rule.when, row, scope)) continue;
      const when = rule.when;
      if ('exists_in' in when) {
        const other = matchIn(when.exists_in, row, scope)!;
        const otherSource = this.mapping.sources.find((s) => sourceName(s) === when.exists_in.source)!;
        return `${rule.reason} (${when.exists_in.source} row ${keyText(other[otherSource.key ?? 'id'])})`;
      }
      return rule.reason;
    }
    return undefined;
  }

  /** Pass one: which asset each row becomes (new, or merged into one made before), or why none. */
  private identify(source: SourceMapping) {
    const model = this.model(source.kind!);
    for (const { row, ref } of this.rowsOf(source)) {
      const skipped = this.skipReason(source, row);
      const none = (fate: Outcome & { reason: string }) => {
        this.setFate(ref, fate);
        this.made.set(rowKey(ref), { missing: fate.reason });
      };
      if (skipped) {
        none({ outcome: 'skipped', reason: skipped });
        continue;
      }
      const raw = evaluate(
        source.id!,
        row,
        this.scope(() => {}),
      );
      const id = raw === null ? '' : slugify(keyText(raw));
      if (!id) {
        none({ outcome: 'unaccounted', reason: 'the id expression gave no usable id; add a skip rule for such rows' });
        continue;
      }
      let tenant: string | null = null;
      if (source.tenant && model.tenancy === 'tenant') {
        const orphans: string[] = [];
        const t = evaluate(
          source.tenant,
          row,
          this.scope((m) => orphans.push(m)),
        );
        if (orphans.length > 0) {
          // Never a platform asset by accident: a row whose tenant is gone is not imported at all.
          none({ outcome: 'skipped', reason: `its tenant is missing: ${orphans.join('; ')}` });
          continue;
        }
        tenant = isAssetKey(t) ? t.id : t === null ? null : slugify(keyText(t));
        const tenantKind = this.catalog.tenantKind?.kind ?? 'Tenant';
        if (tenant !== null && !this.assets.has(assetKey({ kind: tenantKind, tenant: null, id: tenant }))) {
          none({
            outcome: 'skipped',
            reason: `its tenant '${tenant}' was not imported (tenants come from an earlier source)`,
          });
          continue;
        }
      }
      const key = assetKey({ kind: model.kind, tenant, id });
      const probe = this.probe(source, row);
      let target = this.assets.get(key);
      let reason = target ? `same id as ${label(target)}` : '';
      if (!target && source.merge) {
        target = [...this.assets.values()].find(
          (a) =>
            a.kind === model.kind &&
            a.tenant === tenant &&
            source.merge!.on.every((p) => probe.get(p) !== undefined && a.probe.get(p) === probe.get(p)),
        );
        if (target) reason = `same ${source.merge.on.join(', ')} as ${label(target)}`;
      }
      if (target) {
        this.setFate(ref, { outcome: 'merged', asset: label(target), reason });
        target.origins.push(ref);
      } else {
        target = {
          key,
          kind: model.kind,
          tenant,
          id,
          model,
          fields: new Map(),
          relations: new Map(),
          origins: [ref],
          probe,
        };
        this.assets.set(key, target);
        this.setFate(ref, { outcome: 'imported', asset: label(target) });
      }
      this.made.set(rowKey(ref), { asset: target.key });
      this.pending.push({ source, row, ref, asset: target });
    }
  }

  /** Per kind, the properties some source merges on: the only ones worth a probe. */
  private mergeOn = new Map<string, Set<string>>();

  private probe(source: SourceMapping, row: Row): Map<string, string> {
    const probe = new Map<string, string>();
    if (this.mergeOn.size === 0 && this.mapping.sources.some((s) => s.merge)) {
      for (const s of this.mapping.sources)
        for (const p of s.merge?.on ?? [])
          this.mergeOn.set(s.kind!, new Set([...(this.mergeOn.get(s.kind!) ?? []), p]));
    }
    const wanted = this.mergeOn.get(source.kind!);
    if (!wanted) return probe;
    for (const [p, e] of Object.entries(source.fields ?? {})) {
      if (!wanted.has(p)) continue;
      const text = probeText(
        evaluate(
          e,
          row,
          this.scope(() => {}),
        ),
      );
      if (text !== undefined) probe.set(p, text);
    }
    return probe;
  }

  /** Pass two: fields and lists, fitted to the schema; on a merge, values already there win. */
  private fill(source: SourceMapping, row: Row, ref: RowRef, asset: Asset) {
    for (const [property, e] of Object.entries(source.fields ?? {})) {
      const orphans: string[] = [];
      let value = evaluate(
        e,
        row,
        this.scope((m) => orphans.push(m)),
      );
      if (orphans.length > 0) this.coerce(ref, asset, property, `reference dropped: ${orphans.join('; ')}`);
      if (value === null) continue;
      if (asset.model.columns.some((c) => c.property === property)) {
        const fitted = conform(propertySchema(this.catalog, asset.model, property), value);
        if (fitted.coercion) this.coerce(ref, asset, property, fitted.coercion);
        value = fitted.value;
        if (value === null) continue;
      }
      const had = asset.fields.get(property);
      if (!had) asset.fields.set(property, { value, origin: ref });
      else if (JSON.stringify(had.value) !== JSON.stringify(value) && !isAssetKey(value)) {
        const from = `${had.origin.source} row ${had.origin.key}`;
        this.coerce(
          ref,
          asset,
          property,
          `merged: the value of ${from} is kept, this row's ${JSON.stringify(value)} is not`,
        );
      }
    }
    for (const [property, templates] of Object.entries(source.relations ?? {})) {
      for (const template of templates) {
        const entry = this.entry(asset, property, template, row, ref);
        if (entry) this.addEntry(asset, property, { value: entry, origin: ref, ownRow: false });
      }
    }
  }

  /** One list entry from a template; null when a reference it needs is absent (recorded if it was orphaned). */
  private entry(
    asset: Asset,
    property: string,
    template: Record<string, Expression>,
    row: Row,
    ref: RowRef,
    ownRow = false,
  ) {
    const relation = asset.model.relations.find((r) => r.property === property)!;
    const schemas = itemSchemas(this.catalog, asset.model, property);
    const value: Record<string, unknown> = {};
    for (const [p, e] of Object.entries(template)) {
      const orphans: string[] = [];
      let v = evaluate(
        e,
        row,
        this.scope((m) => orphans.push(m)),
      );
      if (orphans.length > 0) {
        if (ownRow) this.setFate(ref, { outcome: 'skipped', reason: `orphaned reference: ${orphans.join('; ')}` });
        else this.coerce(ref, asset, `${property}[].${p}`, `entry dropped, orphaned reference: ${orphans.join('; ')}`);
        return null;
      }
      if (!relation.references.some((r) => r.property === p) && schemas[p]) {
        const fitted = conform(schemas[p]!, v);
        if (fitted.coercion) this.coerce(ref, asset, `${property}[].${p}`, fitted.coercion);
        v = fitted.value;
      }
      if (v !== null) value[p] = v;
    }
    for (const r of relation.references) {
      if (r.required !== false && value[r.property] === undefined && relation.key.includes(r.property)) {
        if (ownRow)
          this.setFate(ref, { outcome: 'skipped', reason: `no ${r.property}: the entry has nothing to point at` });
        return null;
      }
    }
    return value;
  }

  /** Adds a list entry unless its key is there already; at most one entry keeps a primary flag. */
  addEntry(asset: Asset, property: string, item: Item): boolean {
    const relation = asset.model.relations.find((r) => r.property === property)!;
    const list = asset.relations.get(property) ?? [];
    const key = entryKey(relation, item.value);
    const same = list.find((x) => entryKey(relation, x.value) === key);
    if (same) {
      const reason = `the same ${property} entry came already from ${same.origin.source} row ${same.origin.key}`;
      if (item.ownRow) this.setFate(item.origin, { outcome: 'skipped', reason });
      else if (item.origin.source !== same.origin.source || item.origin.key !== same.origin.key)
        this.coerce(item.origin, asset, property, `entry dropped: ${reason}`);
      return false;
    }
    for (const flag of relation.atMostOne) {
      if (item.value[flag] === true && list.some((x) => x.value[flag] === true)) {
        item.value[flag] = false;
        this.coerce(item.origin, asset, `${property}[].${flag}`, `not ${flag}: the asset has a ${flag} entry already`);
      }
    }
    list.push(item);
    asset.relations.set(property, list);
    return true;
  }

  /** Rows of `into` sources: entries of another source's assets. */
  private entries(source: SourceMapping) {
    const into = source.into!;
    for (const { row, ref } of this.rowsOf(source)) {
      const skipped = this.skipReason(source, row);
      if (skipped) {
        this.setFate(ref, { outcome: 'skipped', reason: skipped });
        continue;
      }
      const ownerKey = keyText(
        evaluate(
          into.owner,
          row,
          this.scope(() => {}),
        ),
      );
      const owner = this.scope(() => {}).lookup(into.source, ownerKey);
      if ('missing' in owner) {
        this.setFate(ref, { outcome: 'skipped', reason: `orphaned: ${owner.missing}` });
        continue;
      }
      const asset = this.assets.get(assetKey(owner.asset))!;
      this.setFate(ref, { outcome: 'imported', asset: label(asset) });
      if (asset.model.relations.some((r) => r.property === into.property)) {
        const value = this.entry(asset, into.property, source.item!, row, ref, true);
        if (value) this.addEntry(asset, into.property, { value, origin: ref, ownRow: true });
        continue;
      }
      const value: Record<string, unknown> = {};
      for (const [p, e] of Object.entries(source.item!)) {
        const v = evaluate(
          e,
          row,
          this.scope(() => {}),
        );
        if (v !== null) value[p] = v;
      }
      const had = asset.fields.get(into.property);
      const list = Array.isArray(had?.value) ? (had.value as unknown[]) : [];
      asset.fields.set(into.property, { value: [...list, value], origin: had?.origin ?? ref });
    }
  }

  private skipOnly(source: SourceMapping) {
    for (const { row, ref } of this.rowsOf(source)) {
      const reason = this.skipReason(source, row);
      this.setFate(
        ref,
        reason ? { outcome: 'skipped', reason } : { outcome: 'unaccounted', reason: 'no skip rule matched' },
      );
    }
  }
}
