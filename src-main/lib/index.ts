/**
 * Strata as a small library for Faxbot's own Node services: the seed's ConfigProvider shape
 * (get, set, delete, listKeys, getHierarchy, getEffectiveConfig) over the same stores and the
 * same resolution rules as the console and the CLI.
 *
 * ```ts
 * const config = await ConfigProvider.open({ db: process.env.STRATA_DB!, revealSecrets: true });
 * const backend = await config.get('fax.backend.provider', { userId: 'user123' });
 * console.log(backend.value, backend.sourceLevel, backend.sourceId);
 * await config.close();
 * ```
 *
 * Secrets are masked unless the provider is opened with `revealSecrets: true` (a service that
 * must call the fax provider needs the plaintext API key; a dashboard does not).
 */
import { parseTyped } from '../core/validation.js';
import { StrataError } from '../core/types.js';
import type { Level, SourceLevel, ValueType } from '../core/types.js';
import { openService } from '../services/config-service.js';
import type { OpenServiceOptions, StrataConfigService } from '../services/config-service.js';
import type { ContextInput, WriteResult } from '../services/types.js';

export { StrataError } from '../core/types.js';
export type * from '../core/types.js';
export type * from '../services/types.js';
export { openService, StrataConfigService } from '../services/config-service.js';
export type { OpenServiceOptions, OperatorInfo } from '../services/config-service.js';
export { loadDemo } from '../demo/load-demo.js';

/** The seed's ConfigValue: a resolved value with where it came from. */
export interface ConfigValue {
  key: string;
  /** Typed value (number, boolean, parsed JSON or string); the default argument when unset. */
  value: unknown;
  /** Stored text (masked for secrets unless revealed); null when no level sets the key. */
  text: string | null;
  valueType: ValueType;
  sourceLevel: SourceLevel;
  /** Scope id of the source ('' for global and default). */
  sourceId: string;
  encrypted: boolean;
  /** The winning link (getHierarchy only marks one link per key). */
  winner: boolean;
  /** Set here but overridden by a more specific (or locked) level. */
  shadowed: boolean;
}

/** A context: a directory user id, or an object as the service accepts it. */
export type ProviderContext = string | ContextInput;

/** Options for ConfigProvider.open. */
export interface ProviderOptions extends OpenServiceOptions {
  /** Return secret values in plaintext (default false: masked). */
  revealSecrets?: boolean;
}

function typed(text: string | null, valueType: ValueType): unknown {
  if (text === null) return null;
  try {
    return parseTyped(text, valueType);
  } catch {
    // Rows written outside Strata may not match their declared type; hand back the text.
    return text;
  }
}

function ctxOf(context: ProviderContext): ContextInput {
  return typeof context === 'string' ? { userId: context } : context;
}

/** Hierarchical configuration with the seed's ConfigProvider methods. */
export class ConfigProvider {
  private constructor(
    private readonly service: StrataConfigService,
    private readonly reveal: boolean,
  ) {}

  /** Opens a PostgreSQL URL or a draft path. */
  static async open(opts: ProviderOptions): Promise<ConfigProvider> {
    return new ConfigProvider(await openService(opts), opts.revealSecrets === true);
  }

  /** The underlying service (the full API the console uses). */
  get configService(): StrataConfigService {
    return this.service;
  }

  /** Resolves one key; `defaultValue` is returned when no level (and no metadata default) sets it. */
  async get(
    key: string,
    context: ProviderContext,
    defaultValue: unknown = null,
  ): Promise<ConfigValue> {
    const r = await this.service.resolve(key, ctxOf(context), { reveal: this.reveal });
    const unset = r.value === null;
    return {
      key,
      value: unset ? defaultValue : typed(r.value, r.valueType),
      text: r.value,
      valueType: r.valueType,
      sourceLevel: r.level,
      sourceId: r.scope,
      encrypted: r.encrypted,
      winner: !unset,
      shadowed: false,
    };
  }

  /** Sets a value at a level and scope (live on PostgreSQL, staged in a draft). */
  async set(
    key: string,
    value: string | number | boolean | object,
    level: Level,
    levelId: string,
    opts: { valueType?: ValueType; reason?: string; locked?: boolean } = {},
  ): Promise<WriteResult> {
    const inferred: ValueType | undefined =
      opts.valueType ??
      (typeof value === 'number'
        ? 'number'
        : typeof value === 'boolean'
          ? 'boolean'
          : typeof value === 'object'
            ? 'json'
            : undefined);
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return this.service.set({
      key,
      value: text,
      level,
      scope: level === 'global' ? '' : levelId,
      ...(inferred !== undefined ? { valueType: inferred } : {}),
      ...(opts.locked !== undefined ? { locked: opts.locked } : {}),
      reason: opts.reason ?? null,
    });
  }

  /** Removes the value at a level and scope; false when nothing was set there. */
  async delete(
    key: string,
    level: Level,
    levelId: string,
    opts: { reason?: string } = {},
  ): Promise<boolean> {
    try {
      await this.service.unset({
        key,
        level,
        scope: level === 'global' ? '' : levelId,
        reason: opts.reason ?? null,
      });
      return true;
    } catch (err) {
      if (err instanceof StrataError && err.code === 'not_found') return false;
      throw err;
    }
  }

  /** Keys known anywhere (set at some level or described by metadata), optionally by prefix. */
  async listKeys(prefix?: string): Promise<string[]> {
    return this.service.listKeys(prefix);
  }

  /** Every level that applies to the context for one key, general to specific. */
  async getHierarchy(key: string, context: ProviderContext): Promise<ConfigValue[]> {
    const r = await this.service.resolve(key, ctxOf(context), { reveal: this.reveal });
    return r.chain.map((l) => ({
      key,
      value: typed(l.value, l.valueType ?? r.valueType),
      text: l.value,
      valueType: l.valueType ?? r.valueType,
      sourceLevel: l.level,
      sourceId: l.scope,
      encrypted: l.encrypted,
      winner: l.winner,
      shadowed: l.shadowed,
    }));
  }

  /** All effective values for a context as a plain object of typed values. */
  async getEffectiveConfig(context: ProviderContext): Promise<Record<string, unknown>> {
    const items = await this.service.effective(ctxOf(context), { reveal: this.reveal });
    const out = Object.create(null) as Record<string, unknown>;
    for (const i of items) out[i.key] = typed(i.value, i.valueType);
    return out;
  }

  async close(): Promise<void> {
    await this.service.close();
  }
}
