/**
 * In-memory layered-merge baselines for one user's effective configuration: nconf and the
 * `config` package merging the six layers (user, two groups, department, tenant, global), and a
 * bare merge of plain maps. None of them keeps provenance or honours locks; they show what a
 * general-purpose configuration library costs for the same merge.
 */
import nconf from 'nconf';
import { Util } from 'config/lib/util.js';
import type { DirectoryUser, Level } from '../../src-main/core/types.js';
import type { DemoDataset } from '../../src-main/demo/hospital-network.js';

/** key -> value of one scope. */
export type Layer = Record<string, string>;

/** Every scope's values as plain objects, and as Maps, built once from the dataset. */
export class Layers {
  private readonly objects: Record<Level, Map<string, Layer>> = {
    global: new Map(),
    tenant: new Map(),
    department: new Map(),
    group: new Map(),
    user: new Map(),
  };
  private readonly maps: Record<Level, Map<string, Map<string, string>>> = {
    global: new Map(),
    tenant: new Map(),
    department: new Map(),
    group: new Map(),
    user: new Map(),
  };
  private static readonly EMPTY: Layer = Object.freeze({}) as Layer;
  private static readonly EMPTY_MAP: ReadonlyMap<string, string> = new Map();

  constructor(dataset: DemoDataset) {
    for (const e of dataset.entries) {
      let o = this.objects[e.level].get(e.scope);
      if (o === undefined) {
        o = {};
        this.objects[e.level].set(e.scope, o);
      }
      o[e.key] = e.value;
      let m = this.maps[e.level].get(e.scope);
      if (m === undefined) {
        m = new Map();
        this.maps[e.level].set(e.scope, m);
      }
      m.set(e.key, e.value);
    }
  }

  /** The user's layers, most specific first: user, groups in priority order, department, tenant, global. */
  objectsFor(u: DirectoryUser): Layer[] {
    const o = this.objects;
    const out: Layer[] = [o.user.get(u.id) ?? Layers.EMPTY];
    for (const g of u.groups) out.push(o.group.get(g) ?? Layers.EMPTY);
    if (u.tenantId !== null) {
      if (u.department !== null)
        out.push(o.department.get(`${u.tenantId}/${u.department}`) ?? Layers.EMPTY);
      out.push(o.tenant.get(u.tenantId) ?? Layers.EMPTY);
    }
    out.push(o.global.get('') ?? Layers.EMPTY);
    return out;
  }

  /** As objectsFor, as Maps. */
  mapsFor(u: DirectoryUser): ReadonlyMap<string, string>[] {
    const m = this.maps;
    const out: ReadonlyMap<string, string>[] = [m.user.get(u.id) ?? Layers.EMPTY_MAP];
    for (const g of u.groups) out.push(m.group.get(g) ?? Layers.EMPTY_MAP);
    if (u.tenantId !== null) {
      if (u.department !== null)
        out.push(m.department.get(`${u.tenantId}/${u.department}`) ?? Layers.EMPTY_MAP);
      out.push(m.tenant.get(u.tenantId) ?? Layers.EMPTY_MAP);
    }
    out.push(m.global.get('') ?? Layers.EMPTY_MAP);
    return out;
  }
}

/** nconf: one Provider per context with a literal store per layer (first added wins). */
export function nconfEffective(layers: readonly Layer[]): Record<string, string> {
  const p = new nconf.Provider();
  layers.forEach((store, i) => p.add(`layer${i}`, { type: 'literal', store }));
  return p.get() as Record<string, string>;
}

/** The `config` package's own deep merge (how it layers default/env/local files), general first. */
export function configPackageEffective(layers: readonly Layer[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = layers.length - 1; i >= 0; i--) Util.extendDeep(out, layers[i]);
  return out;
}

/** A bare merge of Maps, general first: the floor any layered lookup pays. */
export function bareMapMerge(layers: readonly ReadonlyMap<string, string>[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = layers.length - 1; i >= 0; i--) for (const [k, v] of layers[i]!) out.set(k, v);
  return out;
}
