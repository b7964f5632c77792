/**
 * Loads a demo dataset (the hospital network, or a generated network at scale N) into an empty
 * store: PostgreSQL live in one transaction (audited as the operator, reason "strata demo"), or
 * the BASE tables of a SQLite draft with no source (so a first push would create it all).
 * Secret values are encrypted with the configured codec; without one they are skipped and
 * counted, never stored in plaintext.
 */
import { StrataError } from '../core/types.js';
import type { CodecChoice } from '../services/secret-codec.js';
import { codecChoiceFromEnv } from '../services/secret-codec.js';
import { openStore } from '../services/targets.js';
import { seedBuiltinTemplates } from '../services/template-store.js';
import type { BaseData, Store } from '../store/store.js';
import { generateNetwork } from './generator.js';
import { hospitalNetwork } from './hospital-network.js';
import type { DemoDataset } from './hospital-network.js';

/** Options for loading the demo. */
export interface LoadDemoOptions {
  /** Load the generated network at this scale instead of the hospital network. */
  scale?: number | null;
  /** Recorded as created_by / audit operator (defaults to the connection's role or OS user). */
  operator?: string | null;
  /** Secret codec (defaults to the one configured by CONFIG_ENCRYPTION_KEY). */
  codec?: CodecChoice;
  env?: Record<string, string | undefined>;
}

/** What was loaded. */
export interface DemoSummary {
  target: string;
  kind: 'postgres' | 'draft';
  dataset: 'hospital-network' | `scale-${number}`;
  tenants: number;
  departments: number;
  groups: number;
  users: number;
  entries: number;
  metadata: number;
  /** Secret values left out because no codec is configured. */
  skippedSecrets: number;
  /** Why secrets were skipped (null when none were). */
  skippedWhy: string | null;
}

/** Loads the demo into an already open store (which must be empty). */
export async function loadDemoInto(store: Store, opts: LoadDemoOptions = {}): Promise<DemoSummary> {
  const scale = opts.scale ?? null;
  if (scale !== null && (!Number.isInteger(scale) || scale < 1 || scale > 100)) {
    throw new StrataError(
      'invalid',
      `--scale must be a whole number from 1 to 100, not ${String(scale)}.`,
    );
  }
  if (!(await store.isEmpty())) {
    throw new StrataError(
      'conflict',
      `${store.target} already holds a directory or configuration; \`strata demo\` loads only into an empty store.`,
    );
  }
  const dataset: DemoDataset = scale === null ? hospitalNetwork() : generateNetwork(scale);
  const choice = opts.codec ?? codecChoiceFromEnv(opts.env ?? process.env);
  let skipped = 0;
  const entries: BaseData['entries'] = [];
  for (const e of dataset.entries) {
    const slot = { level: e.level, scope: e.scope, key: e.key };
    if (e.secret) {
      if (!choice.codec) {
        skipped++;
        continue;
      }
      entries.push({
        ...slot,
        value: choice.codec.encrypt(slot, e.value),
        valueType: e.valueType,
        encrypted: true,
        locked: e.locked,
      });
    } else {
      entries.push({
        ...slot,
        value: e.value,
        valueType: e.valueType,
        encrypted: false,
        locked: e.locked,
      });
    }
  }
  const operator = opts.operator ?? (await store.identity()).role;
  const label = scale === null ? 'hospital network' : `generated network x${scale}`;
  await store.loadBase(
    { directory: dataset.directory, metadata: dataset.metadata, entries },
    { operator, reason: `strata demo: ${label}` },
  );
  await seedBuiltinTemplates(store, { operator });
  const d = dataset.directory;
  return {
    target: store.target,
    kind: store.kind,
    dataset: scale === null ? 'hospital-network' : `scale-${scale}`,
    tenants: d.tenants.length,
    departments: d.departments.length,
    groups: d.groups.length,
    users: d.users.length,
    entries: entries.length,
    metadata: dataset.metadata.length,
    skippedSecrets: skipped,
    skippedWhy: skipped > 0 ? choice.why : null,
  };
}

/**
 * Loads the demo into a target: a PostgreSQL URL (already migrated) or a .sqlite path (created
 * and migrated when missing). Refuses a target that already holds data.
 */
export async function loadDemo(db: string, opts: LoadDemoOptions = {}): Promise<DemoSummary> {
  const store = await openStore(db, { create: true });
  try {
    return await loadDemoInto(store, opts);
  } finally {
    await store.close();
  }
}
