/**
 * .env import and export over an open config service: the pure reader, mapping, placement and
 * import plan of src-main/core/env wired to a real workspace. One class serves the CLI, the
 * console (IPC and web bridge) and tests.
 *
 * - preview(): parses the bytes, maps names, places and types every value, and shows per row the
 *   value stored at the target slot now, the value it would inherit and the new one. Rows that
 *   cannot be written (bad key or scope, value breaking metadata, no write access, a secret with
 *   no encryption key) are listed as errors with their line.
 * - stage(): the same plan, then every accepted row in ONE store write: staged changes in a
 *   draft, or one live transaction (audited by the triggers) on PostgreSQL, with the file name
 *   in the reason. A refused file or any invalid selected row writes nothing.
 * - exportEnv(): the effective configuration of a context as .env text that dotenv and Strata
 *   read back identically; secrets only when asked for and only after their reveal records
 *   are written (the reveal log of reveal-audit.ts).
 * - attachLegacy(): hybrid mode; the file's keys resolve below global as `env_legacy`.
 *
 * Why not ConfigService.set() per row: that is one transaction per row, so a failure halfway
 * would leave a partial import. The store's write() takes the whole batch in one transaction;
 * this class repeats set()'s checks (scope known, write access, metadata rules, encryption)
 * for every row first, then reloads the service's index.
 */
import {
  createEnvKeyMapper,
  ENV_KEY_RE,
  envExportPairs,
  envKeyFor,
  mapEnvKey,
  parseEnv,
  planEnvImport,
  serializeEnv,
  shownImportText,
  summarizeImportPlan,
} from '../core/env/index.js';
import type {
  EnvIssue,
  ImportKeyOverride,
  ImportPlacement,
  ImportPlanItem,
} from '../core/env/index.js';
import { isValidKey } from '../core/keys.js';
import { MASK } from '../core/masking.js';
import { isSecretKey } from '../core/secret-keys.js';
import { assertNoLockViolations } from '../core/impact.js';
import { LEVELS, StrataError, VALUE_TYPES } from '../core/types.js';
import type { Level, Slot, SourceLevel, UserContext } from '../core/types.js';
import type { ConfigIndex } from '../core/config-index.js';
import { checkWrite, operatorOf, securityErrorFromPg } from './access.js';
import type { StrataConfigService } from './config-service.js';
import type {
  EnvExport,
  EnvExportRequest,
  EnvExportRow,
  EnvFile,
  EnvImportOptions,
  EnvMappingPair,
  EnvPreview,
  EnvPreviewItem,
  EnvStageOptions,
  EnvStageResult,
  EnvWrittenRow,
  LegacyKey,
  LegacyStatus,
} from './env-types.js';
import { checkRevealReason, checkRevealVia } from './reveal-audit.js';
import { codecChoiceOf } from './secret-codec.js';
import type { CodecChoice, SecretCodec } from './secret-codec.js';
import { slotKey, type StoredChange } from '../store/store.js';

/** Longest value one row may carry (as ConfigService.set accepts). */
export const MAX_ENV_VALUE_LENGTH = 65_536;
/** Longest admin reason added to an import's recorded reason. */
export const MAX_ENV_REASON_LENGTH = 1_000;
/** Most name -> key pairs a saved (or per-request) mapping may hold. */
export const MAX_ENV_MAPPINGS = 1_000;
/** Workspace setting that holds the saved mapping (JSON list of {envKey, key}). */
export const ENV_MAPPINGS_SETTING = 'env_import.mappings';
/** Draft metadata entry that keeps a legacy attachment across restarts. */
export const ENV_LEGACY_META = 'env_legacy';

const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Options for EnvImportService. */
export interface EnvImportServiceOptions {
  /**
   * Secret codec; undefined: the config service's own (secretCodec()), so values staged here
   * decrypt with the key its reads use; null: secrets disabled.
   */
  codec?: SecretCodec | null;
}

interface LegacyRow {
  line: number;
  envKey: string;
  key: string;
  value: string;
}

interface LegacyState {
  fileName: string;
  rows: LegacyRow[];
  warnings: EnvIssue[];
}

interface Inherited {
  value: string | null;
  level: SourceLevel | null;
  scope: string;
  lockedAbove: boolean;
  /** The value is an envelope (an encrypted entry), never decrypted here. */
  sealed: boolean;
}

interface Planned {
  preview: EnvPreview;
  /** Plaintext plan items, index-aligned with preview.items. */
  items: ImportPlanItem[];
}

/** A file name fit for messages and reasons: last path part, no control characters, bounded. */
export function cleanFileName(name: unknown): string {
  const text = typeof name === 'string' ? name : '';
  const base = text.split(/[\\/]/).pop() ?? '';
  const safe = base
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '')
    .trim()
    .slice(0, 120);
  return safe === '' ? '.env' : safe;
}

/** The reason recorded with every change of an import: the file name, then the admin's words. */
export function importReason(fileName: string, reason?: string | null): string {
  if (reason !== undefined && reason !== null && typeof reason !== 'string') {
    throw new StrataError('invalid', 'The reason must be text.');
  }
  const extra = (reason ?? '').trim();
  if (extra.length > MAX_ENV_REASON_LENGTH) {
    throw new StrataError(
      'invalid',
      `The reason is ${extra.length} characters long; the limit is ${MAX_ENV_REASON_LENGTH}.`,
    );
  }
  return extra === '' ? `Imported from ${fileName}` : `Imported from ${fileName}: ${extra}`;
}

function validEnvName(name: unknown): name is string {
  return typeof name === 'string' && ENV_KEY_RE.test(name) && !RESERVED_NAMES.has(name);
}

function short(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** Checks a list of name -> key pairs; later pairs for the same name win. */
function checkMapping(pairs: readonly EnvMappingPair[] | null | undefined): EnvMappingPair[] {
  if (pairs === undefined || pairs === null) return [];
  if (!Array.isArray(pairs)) {
    throw new StrataError('invalid', 'A mapping is a list of {envKey, key} pairs.');
  }
  if (pairs.length > MAX_ENV_MAPPINGS) {
    throw new StrataError(
      'invalid',
      `A mapping may hold at most ${MAX_ENV_MAPPINGS} pairs; this one has ${pairs.length}.`,
    );
  }
  const byName = new Map<string, string>();
  for (const pair of pairs) {
    const envKey = (pair as Partial<EnvMappingPair> | null)?.envKey;
    const key = (pair as Partial<EnvMappingPair> | null)?.key;
    if (!validEnvName(envKey)) {
      throw new StrataError(
        'invalid',
        `The mapping names ${short(String(envKey))}, which is not a valid .env name.`,
      );
    }
    if (typeof key !== 'string' || !isValidKey(key)) {
      throw new StrataError(
        'invalid',
        `The mapping sends ${envKey} to ${short(String(key))}, which is not a valid configuration key.`,
      );
    }
    byName.delete(envKey);
    byName.set(envKey, key);
  }
  return [...byName].map(([envKey, key]) => ({ envKey, key }));
}

function checkOverrides(
  list: EnvImportOptions['overrides'],
): ReadonlyMap<string, ImportKeyOverride> | null {
  if (list === undefined || list === null) return null;
  if (!Array.isArray(list)) {
    throw new StrataError('invalid', 'Overrides are a list of {envKey, key?, level?, scope?}.');
  }
  const out = new Map<string, ImportKeyOverride>();
  for (const o of list) {
    if (!validEnvName(o?.envKey)) {
      throw new StrataError(
        'invalid',
        `An override names ${short(String(o?.envKey))}, which is not a valid .env name.`,
      );
    }
    if (o.level !== undefined && !(LEVELS as readonly string[]).includes(o.level)) {
      throw new StrataError(
        'invalid',
        `The override of ${o.envKey} names an unknown level; use ${LEVELS.join(', ')}.`,
      );
    }
    if (o.valueType !== undefined && !(VALUE_TYPES as readonly string[]).includes(o.valueType)) {
      throw new StrataError(
        'invalid',
        `The override of ${o.envKey} names an unknown value type; use ${VALUE_TYPES.join(', ')}.`,
      );
    }
    const override: ImportKeyOverride = {};
    if (o.key !== undefined) override.key = o.key;
    if (o.level !== undefined) override.level = o.level;
    if (o.scope !== undefined) override.scope = o.scope;
    if (o.valueType !== undefined) override.valueType = o.valueType;
    out.set(o.envKey, override);
  }
  return out;
}

function describeSlot(level: Level, scope: string): string {
  return level === 'global' ? 'global' : `${level} ${scope}`;
}

function contextLabel(ctx: UserContext): string {
  if (ctx.userId !== null && ctx.tenantId === null) return `user ${ctx.userId}`;
  const parts: string[] = [];
  if (ctx.userId !== null) parts.push(`user ${ctx.userId}`);
  if (ctx.tenantId !== null) parts.push(`tenant ${ctx.tenantId}`);
  if (ctx.department !== null) parts.push(`department ${ctx.department}`);
  if (ctx.groups.length > 0) parts.push(`groups ${ctx.groups.join(', ')}`);
  return parts.join(', ') || 'an empty context';
}

/** .env import, export and hybrid mode over one open config service. */
export class EnvImportService {
  private readonly codec: CodecChoice;
  private legacy: LegacyState | null = null;
  /** The index the legacy map was last attached to; reload() builds a new one without it. */
  private legacyIndex: ConfigIndex | null = null;
  private groupCache: {
    dir: unknown;
    byId: Map<string, { tenantId: string | null; department: string | null }>;
  } | null = null;

  constructor(
    private readonly service: StrataConfigService,
    opts: EnvImportServiceOptions = {},
  ) {
    this.codec = opts.codec === undefined ? service.secretCodec() : codecChoiceOf(opts.codec);
    this.restoreLegacy();
  }

  /** What importing the file would do; writes nothing. */
  async preview(file: EnvFile, opts: EnvImportOptions = {}): Promise<EnvPreview> {
    return (await this.plan(file, opts)).preview;
  }

  /**
   * Imports the file: every selected row that creates or changes a value (and redundant ones
   * when asked) in one store write. Throws StrataError('invalid') with `details.errors`
   * (line + message) and writes nothing when the file is refused or a selected row is invalid.
   */
  async stage(file: EnvFile, opts: EnvStageOptions = {}): Promise<EnvStageResult> {
    const { preview, items } = await this.plan(file, opts);
    const fileName = preview.fileName;
    if (!preview.accepted) {
      throw new StrataError(
        'invalid',
        `${fileName} was not imported: ${preview.errors[0]?.message ?? 'the file was refused.'}`,
        { errors: preview.errors },
      );
    }
    const reason = importReason(fileName, opts.reason);
    let selected: ReadonlySet<string> | null = null;
    if (opts.select !== undefined && opts.select !== null) {
      if (!Array.isArray(opts.select)) {
        throw new StrataError('invalid', 'The selection is a list of .env names.');
      }
      selected = new Set(opts.select);
      const names = new Set(items.map((i) => i.envKey));
      const unknown = [...selected].find((n) => !names.has(n));
      if (unknown !== undefined) {
        throw new StrataError(
          'invalid',
          `The selection names ${short(String(unknown))}, which ${fileName} does not set.`,
        );
      }
    }
    const chosen = items.filter((i) => selected === null || selected.has(i.envKey));
    const invalid = chosen.filter((i) => i.action === 'invalid');
    if (invalid.length > 0) {
      const errors = invalid.map((i) => ({ line: i.line, message: i.message ?? '' }));
      throw new StrataError(
        'invalid',
        `${fileName} was not imported: ${invalid.length === 1 ? 'one row' : `${invalid.length} rows`} cannot be written (${errors[0]!.message.replace(/\.$/, '')}); fix or leave out ${invalid.length === 1 ? 'that row' : 'those rows'}.`,
        { errors },
      );
    }
    const includeRedundant = opts.includeRedundant === true;
    const toWrite = chosen.filter(
      (i) =>
        i.action === 'create' ||
        i.action === 'update' ||
        (i.action === 'redundant' && includeRedundant),
    );
    const writing = new Set(toWrite);
    const skipped = items
      .filter((i) => !writing.has(i))
      .map((i) => ({ line: i.line, envKey: i.envKey, action: i.action }));
    const mode = this.service.store.kind === 'postgres' ? 'live' : 'staged';
    const written: EnvWrittenRow[] = toWrite.map((i) => ({
      line: i.line,
      envKey: i.envKey,
      key: i.key,
      level: i.level,
      scope: i.scope,
      action: i.action as EnvWrittenRow['action'],
      value: i.secret ? MASK : i.value,
    }));
    if (toWrite.length === 0) return { mode, fileName, reason, written, skipped, preview };

    const index = this.service.index;
    const changes: StoredChange[] = toWrite.map((i) => {
      const slot: Slot = { level: i.level, scope: i.scope, key: i.key };
      const existing = index.get(slot) ?? null;
      let stored = i.value;
      if (i.secret) {
        // plan() already refused secrets without a codec; this keeps the type checker honest.
        if (!this.codec.codec) throw new StrataError('invalid', `Secret ${i.key} was not stored.`);
        stored = this.codec.codec.encrypt(slot, i.value);
      }
      return {
        ...slot,
        action: 'set',
        value: stored,
        valueType: i.valueType,
        encrypted: i.secret,
        locked: existing?.locked ?? false,
        // Whatever the preview compared against must still be there when the batch lands.
        expectedVersion: existing?.version ?? null,
      };
    });
    // Locks bind imports too, in drafts as on PostgreSQL (core/impact.ts).
    assertNoLockViolations(index, changes);
    try {
      await this.service.store.write(changes, { operator: this.service.operator().id, reason });
    } catch (err) {
      throw securityErrorFromPg(err) ?? err;
    }
    await this.service.reload();
    this.ensureLegacy();
    return { mode, fileName, reason, written, skipped, preview };
  }

  /** The saved name -> key mapping of this workspace. */
  async mappings(): Promise<EnvMappingPair[]> {
    const text = await this.service.store.getSetting(ENV_MAPPINGS_SETTING);
    if (text === null) return [];
    try {
      return checkMapping(JSON.parse(text) as EnvMappingPair[]);
    } catch {
      // A hand-edited setting that no longer parses must not block imports.
      return [];
    }
  }

  /** Replaces the saved mapping (needs config_write); returns what was saved. */
  async saveMappings(pairs: readonly EnvMappingPair[]): Promise<EnvMappingPair[]> {
    const checked = checkMapping(pairs);
    const op = this.service.operator();
    if (!op.traits.includes('config_write')) {
      throw new StrataError(
        'forbidden',
        `${op.id} lacks the config_write trait required to save a mapping.`,
      );
    }
    try {
      await this.service.store.setSetting(
        ENV_MAPPINGS_SETTING,
        checked.length === 0 ? null : JSON.stringify(checked),
      );
    } catch (err) {
      const sec = securityErrorFromPg(err);
      if (sec) {
        throw new StrataError(
          'forbidden',
          'The database refused to save the mapping: this role may not change workspace settings.',
        );
      }
      throw err;
    }
    return checked;
  }

  /**
   * The effective configuration of a context as .env text. Secret keys are left out (and named
   * in `omittedSecrets`) unless `includeSecrets`; then every exported secret slot gets a reveal
   * record (config_reveals / draft_reveals: who, which slot, the reason naming the context, the
   * front door) before any plaintext is read, and when the record cannot be written nothing is
   * exported.
   */
  async exportEnv(req: EnvExportRequest): Promise<EnvExport> {
    this.ensureLegacy();
    if (!req || typeof req !== 'object') {
      throw new StrataError('invalid', 'An export needs a context (a user or a tenant).');
    }
    const include = req.includeSecrets === true;
    const reason = checkRevealReason(req.reason);
    if (reason !== null && !include) {
      throw new StrataError(
        'invalid',
        'A reason is recorded only when secrets are exported; include secrets or leave the reason out.',
      );
    }
    if (reason !== null && reason.length > MAX_ENV_REASON_LENGTH) {
      throw new StrataError(
        'invalid',
        `The reason is ${reason.length} characters long; the limit is ${MAX_ENV_REASON_LENGTH}.`,
      );
    }
    const via = req.via === undefined ? undefined : checkRevealVia(req.via);
    const ctx = await this.service.context(req.context);
    const custom = new Map(
      [...(await this.mappings()), ...checkMapping(req.mapping)].map((p) => [p.envKey, p.key]),
    );
    const index = this.service.index;
    // Masked read: which keys exist, where they come from, and which are secrets.
    const masked = await this.service.effective(req.context);
    const secretKeys = masked
      .filter((i) => i.value !== null && (i.encrypted || isSecretKey(i.key, index.metadata(i.key))))
      .map((i) => i.key);
    const secrets = new Set(secretKeys);
    const present = masked.filter((i) => i.value !== null && (include || !secrets.has(i.key)));
    const byKey = new Map(present.map((i) => [i.key, i]));
    const { pairs, collisions } = envExportPairs(
      present.map((i) => [i.key, i.value!] as const),
      custom,
    );
    const notes: string[] = [];
    // Which key each written name carries (collisions are settled below).
    const keyOfName = new Map<string, string>();
    for (const i of present) keyOfName.set(envKeyFor(i.key, custom), i.key);
    for (const c of collisions) {
      const keep = mapEnvKey(c.envKey, custom, c.keys);
      if (c.keys.includes(keep)) {
        pairs.push([c.envKey, byKey.get(keep)!.value!]);
        keyOfName.set(c.envKey, keep);
      }
      const dropped = c.keys.filter((k) => k !== keep);
      notes.push(
        `${dropped.join(', ')} not exported: ${c.envKey} holds ${c.keys.includes(keep) ? keep : 'none of them'}.`,
      );
    }
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const rows: EnvExportRow[] = pairs.map(([envKey]) => {
      const key = keyOfName.get(envKey)!;
      const item = byKey.get(key)!;
      return {
        envKey,
        key,
        level: item.level,
        scope: item.scope,
        secret: secrets.has(key),
      };
    });
    const released = rows
      .filter((r) => r.secret)
      .map((r) => r.key)
      .sort();
    if (released.length > 0) {
      // Only the secrets actually written are revealed: one record per slot, in one statement,
      // before the plaintext is read. A failed record throws and nothing is returned.
      const why = `Export to .env for ${contextLabel(ctx)}${reason === null ? '' : `: ${reason}`}`;
      const plain = await this.service.revealEffective(req.context, released, {
        reason: why,
        ...(via !== undefined ? { via } : {}),
      });
      for (let n = 0; n < pairs.length; n++) {
        const row = rows[n]!;
        if (!row.secret) continue;
        const value = plain.get(row.key);
        if (value === null || value === undefined) {
          throw new StrataError('internal', `${row.key} changed during the export; try again.`);
        }
        pairs[n] = [pairs[n]![0], value];
      }
    }
    const omittedSecrets = include ? [] : secretKeys;
    const header = [
      `Exported by Strata for ${contextLabel(ctx)}.`,
      released.length > 0
        ? `Contains ${released.length} secret value(s) in plaintext: keep this file private.`
        : omittedSecrets.length > 0
          ? `${omittedSecrets.length} secret key(s) left out; export with secrets to include them.`
          : 'No secrets.',
    ];
    const text = serializeEnv(pairs, { header });
    const base = (ctx.userId ?? ctx.tenantId ?? 'strata').replace(/[^A-Za-z0-9_.-]/g, '_');
    return {
      text,
      fileName: `${base}.env`,
      rows,
      omittedSecrets,
      notes,
      secretsIncluded: released.length,
    };
  }

  /**
   * Attaches a .env file as the lowest level (`env_legacy`): keys the database does not set
   * resolve from it, and provenance says so. Replaces any earlier attachment. A draft keeps it
   * across restarts (secret values encrypted); a live database only for this session.
   */
  async attachLegacy(
    file: EnvFile,
    opts: { mapping?: readonly EnvMappingPair[] | null } = {},
  ): Promise<LegacyStatus> {
    const fileName = cleanFileName(file?.fileName);
    if (!(file?.bytes instanceof Uint8Array)) {
      throw new StrataError('invalid', 'The .env content must be given as bytes.');
    }
    const parsed = parseEnv(file.bytes);
    if (!parsed.ok) {
      throw new StrataError(
        'invalid',
        `${fileName} was not attached: ${parsed.errors[0]?.message ?? 'the file was refused.'}`,
        { errors: parsed.errors },
      );
    }
    const custom = new Map(
      [...(await this.mappings()), ...checkMapping(opts.mapping)].map((p) => [p.envKey, p.key]),
    );
    const mapper = createEnvKeyMapper({ custom, knownKeys: await this.service.listKeys() });
    const warnings: EnvIssue[] = [...parsed.warnings];
    const byKey = new Map<string, LegacyRow[]>();
    for (const e of parsed.entries) {
      const key = mapper(e.key).key;
      if (!isValidKey(key)) {
        warnings.push({
          line: e.line,
          message: `Line ${e.line}: ${e.key} maps to ${short(key)}, which is not a valid configuration key, so it is not attached.`,
        });
        continue;
      }
      const list = byKey.get(key);
      const row = { line: e.line, envKey: e.key, key, value: e.value };
      if (list) list.push(row);
      else byKey.set(key, [row]);
    }
    const rows: LegacyRow[] = [];
    for (const [key, list] of byKey) {
      if (list.length === 1) {
        rows.push(list[0]!);
        continue;
      }
      const who = list.map((r) => `${r.envKey} (line ${r.line})`).join(' and ');
      for (const r of list) {
        warnings.push({
          line: r.line,
          message: `Line ${r.line}: ${who} all map to ${key}, so none of them is attached; map them apart.`,
        });
      }
    }
    rows.sort((a, b) => a.line - b.line);
    warnings.sort((a, b) => a.line - b.line);
    this.legacy = { fileName, rows, warnings };
    this.legacyIndex = null;
    this.ensureLegacy();
    this.persistLegacy();
    return this.legacyStatus();
  }

  /** Detaches the legacy file (keys stop resolving from it). */
  async detachLegacy(): Promise<LegacyStatus> {
    this.legacy = null;
    this.legacyIndex = null;
    this.service.index.setLegacy(null);
    this.persistLegacy();
    return this.legacyStatus();
  }

  /** The attached legacy file: its keys, which are still only in the file, and notes. */
  async legacyStatus(): Promise<LegacyStatus> {
    this.ensureLegacy();
    const persisted = this.service.store.kind === 'draft';
    const legacy = this.legacy;
    if (legacy === null) {
      return { attached: false, fileName: null, keys: [], onlyInFile: 0, warnings: [], persisted };
    }
    const index = this.service.index;
    const stored = new Set(index.allEntries().map((e) => e.key));
    const keys: LegacyKey[] = legacy.rows.map((r) => {
      const secret = isSecretKey(r.key, index.metadata(r.key)) || isSecretKey(r.envKey);
      return {
        line: r.line,
        envKey: r.envKey,
        key: r.key,
        value: secret ? MASK : r.value,
        secret,
        inDatabase: stored.has(r.key),
      };
    });
    return {
      attached: true,
      fileName: legacy.fileName,
      keys,
      onlyInFile: keys.filter((k) => !k.inDatabase).length,
      warnings: [...legacy.warnings],
      persisted,
    };
  }

  /** Re-attaches the legacy map after the service rebuilt its index (reload). */
  private ensureLegacy(): void {
    if (this.legacy === null) return;
    const index = this.service.index;
    if (this.legacyIndex === index) return;
    index.setLegacy(new Map(this.legacy.rows.map((r) => [r.key, r.value])));
    this.legacyIndex = index;
  }

  private draftMeta(): {
    meta(key: string): string | null;
    setMeta(key: string, value: string | null): void;
  } | null {
    const store = this.service.store as unknown as {
      kind: string;
      meta?: unknown;
      setMeta?: unknown;
    };
    if (store.kind !== 'draft' || typeof store.meta !== 'function') return null;
    return this.service.store as unknown as {
      meta(key: string): string | null;
      setMeta(key: string, value: string | null): void;
    };
  }

  private persistLegacy(): void {
    const draft = this.draftMeta();
    if (draft === null) return;
    if (this.legacy === null) {
      draft.setMeta(ENV_LEGACY_META, null);
      return;
    }
    const codec = this.codec.codec;
    const rows: Array<Record<string, unknown>> = [];
    for (const r of this.legacy.rows) {
      const secret =
        isSecretKey(r.key, this.service.index.metadata(r.key)) || isSecretKey(r.envKey);
      if (!secret) {
        rows.push({ line: r.line, envKey: r.envKey, key: r.key, value: r.value });
      } else if (codec) {
        const enc = codec.encrypt({ level: 'global', scope: '', key: r.key }, r.value);
        rows.push({ line: r.line, envKey: r.envKey, key: r.key, enc });
      } else {
        // No key to encrypt with: a plaintext secret is never written to the draft file.
        this.legacy.warnings.push({
          line: r.line,
          message: `Line ${r.line}: ${r.envKey} is a secret and no encryption key is set, so it is attached for this session only.`,
        });
      }
    }
    draft.setMeta(
      ENV_LEGACY_META,
      JSON.stringify({
        v: 1,
        fileName: this.legacy.fileName,
        rows,
        warnings: this.legacy.warnings,
      }),
    );
  }

  private restoreLegacy(): void {
    const draft = this.draftMeta();
    if (draft === null) return;
    const text = draft.meta(ENV_LEGACY_META);
    if (text === null) return;
    try {
      const doc = JSON.parse(text) as {
        fileName?: unknown;
        rows?: Array<Record<string, unknown>>;
        warnings?: EnvIssue[];
      };
      const rows: LegacyRow[] = [];
      const warnings: EnvIssue[] = Array.isArray(doc.warnings) ? doc.warnings : [];
      for (const r of doc.rows ?? []) {
        const key = r.key;
        const envKey = r.envKey;
        if (typeof key !== 'string' || !isValidKey(key) || typeof envKey !== 'string') continue;
        const line = typeof r.line === 'number' ? r.line : 0;
        if (typeof r.value === 'string') {
          rows.push({ line, envKey, key, value: r.value });
        } else if (typeof r.enc === 'string' && this.codec.codec) {
          try {
            const value = this.codec.codec.decrypt({ level: 'global', scope: '', key }, r.enc);
            rows.push({ line, envKey, key, value });
          } catch {
            warnings.push({
              line,
              message: `Line ${line}: ${envKey} could not be decrypted with the current encryption key, so it is not attached.`,
            });
          }
        }
      }
      this.legacy = { fileName: cleanFileName(doc.fileName), rows, warnings };
      this.ensureLegacy();
    } catch {
      // A damaged entry is dropped rather than blocking the workspace from opening.
      this.legacy = null;
    }
  }

  /**
   * Parses and plans a file against the workspace as it is now, in one pass over the in-memory
   * index. Nothing is decrypted and nothing is revealed: encrypted values stay envelopes and are
   * compared by fingerprint, and the preview masks them, so no reveal record is due.
   */
  private async plan(file: EnvFile, opts: EnvImportOptions): Promise<Planned> {
    this.ensureLegacy();
    const fileName = cleanFileName(file?.fileName);
    const placement: ImportPlacement = opts.placement ?? 'auto';
    const tenant = opts.tenant === undefined || opts.tenant === '' ? null : opts.tenant;
    const mapping = [...(await this.mappings()), ...checkMapping(opts.mapping)];
    const mergedMapping = checkMapping(mapping);
    const overrides = checkOverrides(opts.overrides);
    const empty = (errors: EnvIssue[]): Planned => ({
      preview: {
        fileName,
        accepted: false,
        errors,
        warnings: [],
        duplicates: [],
        items: [],
        summary: summarizeImportPlan([]),
        placement,
        tenant,
        mapping: mergedMapping,
      },
      items: [],
    });
    if (!(file?.bytes instanceof Uint8Array)) {
      return empty([{ line: 0, message: 'The .env content must be given as bytes.' }]);
    }
    const parsed = parseEnv(file.bytes);
    if (!parsed.ok) return empty(parsed.errors);

    const index = this.service.index;
    // Envelopes handed to the plan (stored or inherited): compared by fingerprint, shown masked.
    const sealed = new Set<string>();
    const inherited = new Map<string, Inherited>();
    const codec = this.codec.codec;
    const items = planEnvImport(parsed.entries, {
      placement,
      tenant,
      mapping: new Map(mergedMapping.map((p) => [p.envKey, p.key])),
      knownKeys: await this.service.listKeys(),
      overrides,
      metadata: (key: string) => index.metadata(key),
      current: (slot) => {
        const entry = index.get(slot);
        if (entry === undefined) return undefined;
        if (entry.encrypted) sealed.add(entry.value);
        return entry.value;
      },
      inherited: (slot) => {
        const id = slotKey(slot);
        let inh = inherited.get(id);
        if (inh === undefined) {
          inh = this.inheritedAt(slot);
          inherited.set(id, inh);
        }
        if (inh.sealed && inh.value !== null) sealed.add(inh.value);
        return inh.value;
      },
      equals: (stored, value) => {
        if (!sealed.has(stored)) return null;
        // Without the key (or under an older key) the fingerprints differ: the row shows as a
        // change, which writing re-encrypts under the current key.
        return codec !== null && codec.fingerprint(stored) === codec.fingerprintOf(value);
      },
    });
    this.checkWritable(items);

    const previewItems: EnvPreviewItem[] = new Array<EnvPreviewItem>(items.length);
    for (let n = 0; n < items.length; n++) {
      const item = items[n]!;
      const inh = item.action === 'invalid' ? undefined : inherited.get(slotKey(item));
      const has = inh !== undefined && inh.value !== null;
      const isSealed = (stored: string): boolean => sealed.has(stored);
      const row: EnvPreviewItem = {
        line: item.line,
        envKey: item.envKey,
        key: item.key,
        keySource: item.keySource,
        level: item.level,
        scope: item.scope,
        value: item.secret ? MASK : item.value,
        valueType: item.valueType,
        secret: item.secret,
        action: item.action,
        current: shownImportText(item.current, item.secret, isSealed),
        inherited: shownImportText(item.inherited, item.secret, isSealed),
        inheritedLevel: has ? inh.level : null,
        inheritedScope: has ? inh.scope : '',
        lockedAbove: inh?.lockedAbove ?? false,
      };
      if (item.message !== undefined) row.message = item.message;
      if (inh?.lockedAbove && item.action !== 'invalid') {
        row.note = `A more general level locks ${item.key}, so a value at ${describeSlot(item.level, item.scope)} has no effect.`;
      } else if (item.note !== undefined) {
        row.note = item.note;
      }
      previewItems[n] = row;
    }
    const errors: EnvIssue[] = [];
    for (const i of items) {
      if (i.action === 'invalid') {
        errors.push({ line: i.line, message: i.message ?? `Line ${i.line}: cannot be imported.` });
      }
    }
    return {
      preview: {
        fileName,
        accepted: true,
        errors,
        warnings: parsed.warnings,
        duplicates: parsed.duplicates,
        items: previewItems,
        summary: summarizeImportPlan(items),
        placement,
        tenant,
        mapping: mergedMapping,
      },
      items,
    };
  }

  /**
   * What set() would refuse, per row, so the preview shows it and stage() writes nothing:
   * values over the size limit, scopes the workspace does not know, missing write access,
   * secrets with no encryption key.
   */
  private checkWritable(items: ImportPlanItem[]): void {
    const op = this.service.operator();
    const who = operatorOf(op);
    const index = this.service.index;
    const dir = index.directory();
    const noDirectoryUser = op.source === 'role' || op.source === 'local';
    for (const item of items) {
      if (item.action === 'invalid' || item.action === 'unchanged') continue;
      let message: string | null = null;
      if (item.value.length > MAX_ENV_VALUE_LENGTH) {
        message = `the value of ${item.envKey} is ${item.value.length} characters long; the limit is ${MAX_ENV_VALUE_LENGTH}.`;
      } else if (
        !index.inDirectory(item.level, item.scope) &&
        index.entriesAt(item.level, item.scope).length === 0
      ) {
        message = `${item.level} '${item.scope}' is not in the directory; check the spelling or add it first.`;
      } else if (noDirectoryUser) {
        message = `${op.id} is not a directory user with traits, so it may not change configuration; act as a directory user (--as <user id>).`;
      } else {
        const decision = checkWrite(who, item, dir);
        if (!decision.ok) message = decision.reason;
        else if (item.secret && !this.codec.codec) {
          message = `${item.key} is a secret and cannot be stored: ${this.codec.why}.`;
        }
      }
      if (message !== null) {
        item.action = 'invalid';
        item.message = `Line ${item.line}: ${message}`;
      }
    }
  }

  /**
   * The context whose chain runs from global down to exactly this slot. A slot no context
   * reaches (global itself, a group without a tenant, an unknown user) gets the empty context:
   * its chain is the legacy map and global, which is all such a slot inherits from.
   */
  private slotContext(level: Level, scope: string): UserContext {
    const index = this.service.index;
    switch (level) {
      case 'global':
        return NO_CONTEXT;
      case 'tenant':
        return { tenantId: scope, department: null, groups: [], userId: null };
      case 'department': {
        const slash = scope.indexOf('/');
        return {
          tenantId: scope.slice(0, slash),
          department: scope.slice(slash + 1),
          groups: [],
          userId: null,
        };
      }
      case 'group': {
        const group = this.groupsById().get(scope);
        if (!group?.tenantId) return NO_CONTEXT;
        return {
          tenantId: group.tenantId,
          department: group.department,
          groups: [scope],
          userId: null,
        };
      }
      case 'user':
        return index.user(scope) ? index.userContext(scope) : NO_CONTEXT;
    }
  }

  private groupsById(): Map<string, { tenantId: string | null; department: string | null }> {
    const dir = this.service.index.directory();
    if (this.groupCache?.dir !== dir) {
      this.groupCache = { dir, byId: new Map(dir.groups.map((g) => [g.id, g])) };
    }
    return this.groupCache.byId;
  }

  /**
   * What the slot would inherit from more general levels (a lock above wins), read from the
   * index as stored: an encrypted value stays its envelope (`sealed`).
   */
  private inheritedAt(slot: Slot): Inherited {
    const index = this.service.index;
    const meta = index.metadata(slot.key);
    const ctx = this.slotContext(slot.level, slot.scope);
    const none: Inherited =
      meta?.defaultValue !== null && meta?.defaultValue !== undefined
        ? {
            value: meta.defaultValue,
            level: 'default',
            scope: '',
            lockedAbove: false,
            sealed: false,
          }
        : { value: null, level: null, scope: '', lockedAbove: false, sealed: false };
    const chain = index.resolve(slot.key, ctx).chain;
    let own = chain.findIndex((l) => l.level === slot.level && l.scope === slot.scope);
    if (own < 0) own = chain.length;
    for (let i = 0; i < own; i++) {
      const l = chain[i]!;
      if (l.entry?.locked && l.value !== null) {
        return {
          value: l.value,
          level: l.level,
          scope: l.scope,
          lockedAbove: true,
          sealed: l.entry.encrypted,
        };
      }
    }
    for (let i = own - 1; i >= 0; i--) {
      const l = chain[i]!;
      if (l.value !== null) {
        return {
          value: l.value,
          level: l.level,
          scope: l.scope,
          lockedAbove: false,
          sealed: l.entry?.encrypted ?? false,
        };
      }
    }
    return none;
  }
}

/** The context of no tenant, department, group or user: its chain is legacy and global. */
const NO_CONTEXT: UserContext = { tenantId: null, department: null, groups: [], userId: null };

const envServices = new WeakMap<StrataConfigService, EnvImportService>();

/**
 * The .env service of a config service, created once, so a legacy attachment made through one
 * front door (a console request) is the one every later request sees.
 */
export function envServiceFor(
  config: StrataConfigService,
  opts: EnvImportServiceOptions = {},
): EnvImportService {
  let s = envServices.get(config);
  if (!s) {
    s = new EnvImportService(config, opts);
    envServices.set(config, s);
  }
  return s;
}
