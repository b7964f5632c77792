/**
 * Connection profiles: the PostgreSQL databases and draft workspaces a console can open, each
 * labelled production / staging / development. Profiles are kept as JSON in the user data folder
 * (written beside the target and renamed over it, so a crash never leaves half a file); a file
 * that cannot be read is reported and left untouched, never silently replaced.
 *
 * Passwords never enter that file: a password typed into a URL is split out, and every password
 * goes through a SecretVault (Electron safeStorage on the desktop, memory in the browser
 * transport). A connection test opens the target the same way the console would and reports one
 * clear sentence: unreachable, authentication failed, not migrated, missing file, or who the
 * operator is and what they may do.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  PROFILE_ENVIRONMENTS,
  PROFILE_KINDS,
  type ProfileEnvironment,
  type ProfileKind,
} from '../contract/connection-channels.js';
import { StrataError } from '../core/types.js';
import { appliedPostgres, compareMigrations, readMigrations } from '../store/migrations.js';
import { PostgresStore } from '../store/postgres-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { SECRET_URL_PARAMS, type Store } from '../store/store.js';
import { writeReach } from './access.js';
import { StrataConfigService } from './config-service.js';
import { readJsonFile, writePrivateFile } from './private-file.js';
import { hasUrlScheme, isPostgresTarget } from './targets.js';

export type { ProfileEnvironment, ProfileKind } from '../contract/connection-channels.js';

/** File (in the user data folder) holding the profiles. */
export const PROFILES_FILE = 'connections.json';

/** A stored profile: never a password. */
export interface ConnectionProfile {
  id: string;
  name: string;
  kind: ProfileKind;
  environment: ProfileEnvironment;
  /** A postgres:// URL without user name and password, or a draft file path. */
  target: string;
  /** PostgreSQL role to connect as (null: the one in PGUSER / the driver's default). */
  user: string | null;
  /** Directory user to act as (null: the one the database role maps to). */
  operator: string | null;
  /** When the profile was last opened (ISO time), or null. */
  lastOpened: string | null;
}

/** What a caller gives to create or update a profile; `id` updates an existing one. */
export interface ProfileInput {
  id?: string | null;
  name: string;
  kind: ProfileKind;
  environment: ProfileEnvironment;
  /** A URL (a password in it is split out and never stored) or a draft path. */
  target: string;
  user?: string | null;
  operator?: string | null;
  /** A new password for the vault; undefined keeps the stored one, '' or null removes it. */
  password?: string | null;
}

/**
 * Where passwords are kept. The desktop implementation encrypts them with the OS keyring; the
 * browser transport's keeps them in memory only.
 */
export interface SecretVault {
  /** True when a password survives a restart of the console. */
  readonly persistent: boolean;
  /** One sentence the console shows next to the password field. */
  readonly note: string;
  get(id: string): Promise<string | null>;
  set(id: string, secret: string): Promise<void>;
  delete(id: string): Promise<void>;
}

/** The browser transport's vault: never written anywhere, gone when the process ends. */
export class MemoryVault implements SecretVault {
  readonly persistent = false;
  readonly note: string;
  private readonly secrets = new Map<string, string>();

  constructor(note = 'Password kept for this session only: it is never written to disk.') {
    this.note = note;
  }

  get(id: string): Promise<string | null> {
    return Promise.resolve(this.secrets.get(id) ?? null);
  }

  set(id: string, secret: string): Promise<void> {
    this.secrets.set(id, secret);
    return Promise.resolve();
  }

  delete(id: string): Promise<void> {
    this.secrets.delete(id);
    return Promise.resolve();
  }
}

/** A PostgreSQL URL taken apart: the storable target, and the user and password it carried. */
export interface SplitUrl {
  target: string;
  user: string | null;
  password: string | null;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Splits user and password out of a postgres:// URL; the target keeps neither. */
export function splitConnectionUrl(url: string): SplitUrl {
  const text = url.trim();
  if (!isPostgresTarget(text)) {
    throw new StrataError(
      'invalid',
      'A PostgreSQL profile needs a postgres:// or postgresql:// URL, e.g. postgres://db.example:5432/strata.',
    );
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new StrataError(
      'invalid',
      'The URL cannot be read; write it like postgres://db.example:5432/strata.',
    );
  }
  if (u.hostname === '' && !u.searchParams.get('host')) {
    throw new StrataError(
      'invalid',
      'The URL names no host; write it like postgres://db.example:5432/strata.',
    );
  }
  const user = u.username ? decode(u.username) : null;
  let password = u.password ? decode(u.password) : null;
  const inQuery = u.searchParams.get('password');
  if (password === null && inQuery) password = inQuery;
  u.username = '';
  u.password = '';
  for (const p of SECRET_URL_PARAMS) u.searchParams.delete(p);
  return { target: u.toString(), user, password };
}

/** The URL to connect with: the stored target plus user and password (never stored). */
export function connectionUrl(
  profile: Pick<ConnectionProfile, 'target' | 'user'>,
  password: string | null,
): string {
  const u = new URL(profile.target);
  // The URL setters leave '%' alone; encoding first keeps a password such as "a%41" intact.
  if (profile.user) u.username = encodeURIComponent(profile.user);
  if (password) u.password = encodeURIComponent(password);
  return u.toString();
}

/** The profile's target as shown (with the user, never a password). */
export function displayTarget(
  profile: Pick<ConnectionProfile, 'kind' | 'target' | 'user'>,
): string {
  if (profile.kind !== 'postgres' || !profile.user) return profile.target;
  try {
    return connectionUrl(profile, null);
  } catch {
    return profile.target;
  }
}

interface ProfilesFile {
  format: 'strata-connections';
  version: 1;
  profiles: ConnectionProfile[];
}

const ID_RE = /^[A-Za-z0-9_-]{1,100}$/;

function isOneOf<T extends string>(list: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (list as readonly string[]).includes(v);
}

function isEnvironment(v: unknown): v is ProfileEnvironment {
  return isOneOf(PROFILE_ENVIRONMENTS, v);
}

function nullableString(v: unknown): v is string | null {
  return v === null || typeof v === 'string';
}

function isProfile(p: unknown): p is ConnectionProfile {
  if (typeof p !== 'object' || p === null) return false;
  const r = p as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    ID_RE.test(r.id) &&
    typeof r.name === 'string' &&
    isOneOf(PROFILE_KINDS, r.kind) &&
    isEnvironment(r.environment) &&
    typeof r.target === 'string' &&
    nullableString(r.user) &&
    nullableString(r.operator ?? null) &&
    nullableString(r.lastOpened)
  );
}

/** Longest profile name. */
export const MAX_PROFILE_NAME = 100;

function cleanText(v: string | null | undefined): string | null {
  const t = (v ?? '').trim();
  return t === '' ? null : t;
}

/** Checks a profile input; returns the stored fields and any password split out of the URL. */
export function normaliseProfile(input: ProfileInput): {
  fields: Omit<ConnectionProfile, 'id' | 'lastOpened'>;
  urlPassword: string | null;
} {
  const name = input.name.trim();
  if (name === '') throw new StrataError('invalid', 'Give the connection a name.');
  if (name.length > MAX_PROFILE_NAME) {
    throw new StrataError(
      'invalid',
      `The name is longer than ${MAX_PROFILE_NAME} characters; shorten it.`,
    );
  }
  if (!isEnvironment(input.environment)) {
    throw new StrataError('invalid', 'Choose production, staging or development.');
  }
  const operator = cleanText(input.operator);
  if (input.kind === 'postgres') {
    const split = splitConnectionUrl(input.target);
    const user = cleanText(input.user) ?? split.user;
    return {
      fields: {
        name,
        kind: 'postgres',
        environment: input.environment,
        target: split.target,
        user,
        operator,
      },
      urlPassword: split.password,
    };
  }
  const path = input.target.trim();
  if (path === '') throw new StrataError('invalid', 'Give the path of the draft workspace file.');
  if (hasUrlScheme(path)) {
    throw new StrataError(
      'invalid',
      'A draft profile names a .sqlite file; choose PostgreSQL for a database URL.',
    );
  }
  return {
    fields: {
      name,
      kind: 'draft',
      environment: input.environment,
      target: path,
      user: null,
      operator,
    },
    urlPassword: null,
  };
}

/** The profiles of one user data folder. */
export class ProfileStore {
  /** The JSON file. */
  readonly path: string;

  constructor(
    readonly dir: string,
    readonly vault: SecretVault,
  ) {
    this.path = join(dir, PROFILES_FILE);
  }

  /** Every profile, in saved order; a damaged file is reported, never replaced. */
  list(): ConnectionProfile[] {
    if (!existsSync(this.path)) return [];
    const doc = readJsonFile<Partial<ProfilesFile>>(this.path, () =>
      this.damaged('it is not valid JSON'),
    );
    if (doc?.format !== 'strata-connections' || doc.version !== 1 || !Array.isArray(doc.profiles)) {
      throw this.damaged('it is not a Strata connections file this version understands');
    }
    const bad = doc.profiles.findIndex((p) => !isProfile(p));
    if (bad >= 0) throw this.damaged(`profile ${bad + 1} is incomplete`);
    return doc.profiles.map((p) => ({ ...p, operator: p.operator ?? null }));
  }

  /** One profile, or a not_found error. */
  get(id: string): ConnectionProfile {
    const found = this.list().find((p) => p.id === id);
    if (!found) throw new StrataError('not_found', 'There is no connection profile with that id.');
    return found;
  }

  /** Creates or updates a profile; the password goes to the vault, never to the file. */
  async save(input: ProfileInput): Promise<ConnectionProfile> {
    const { fields, urlPassword } = normaliseProfile(input);
    const profiles = this.list();
    let profile: ConnectionProfile;
    if (input.id) {
      const at = profiles.findIndex((p) => p.id === input.id);
      if (at < 0)
        throw new StrataError('not_found', 'There is no connection profile with that id.');
      profile = { ...profiles[at]!, ...fields };
      profiles[at] = profile;
    } else {
      profile = { id: randomUUID(), ...fields, lastOpened: null };
      profiles.push(profile);
    }
    const password = input.password !== undefined ? input.password : urlPassword;
    this.write(profiles);
    if (password === '' || (password === null && input.password !== undefined)) {
      await this.vault.delete(profile.id);
    } else if (password) {
      await this.vault.set(profile.id, password);
    }
    return profile;
  }

  /** Removes a profile and its password; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const profiles = this.list();
    const rest = profiles.filter((p) => p.id !== id);
    if (rest.length === profiles.length) return false;
    this.write(rest);
    await this.vault.delete(id);
    return true;
  }

  /** Records that a profile was opened now. */
  touch(id: string, when: string = new Date().toISOString()): ConnectionProfile {
    const profiles = this.list();
    const at = profiles.findIndex((p) => p.id === id);
    if (at < 0) throw new StrataError('not_found', 'There is no connection profile with that id.');
    profiles[at] = { ...profiles[at]!, lastOpened: when };
    this.write(profiles);
    return profiles[at];
  }

  private damaged(why: string): StrataError {
    return new StrataError(
      'invalid',
      `The connection profiles in ${this.path} cannot be read (${why}); the file was left untouched, so fix or remove it.`,
    );
  }

  private write(profiles: ConnectionProfile[]): void {
    const doc: ProfilesFile = { format: 'strata-connections', version: 1, profiles };
    writePrivateFile(this.path, `${JSON.stringify(doc, null, 2)}\n`);
  }
}

/** Why a connection test failed (or 'ok'). */
export type ConnectionTestStatus =
  'ok' | 'unreachable' | 'auth_failed' | 'not_migrated' | 'missing_file' | 'no_operator' | 'failed';

/** The outcome of a connection test, one sentence for the operator. */
export interface ConnectionTestResult {
  ok: boolean;
  status: ConnectionTestStatus;
  message: string;
  /** The newest applied migration (e.g. "0007_history"), when the test got that far. */
  schemaVersion: string | null;
  /** The directory user the console would act as, and their traits. */
  operator: string | null;
  traits: string[];
  /** True when the operator may change configuration somewhere. */
  canWrite: boolean;
  /** The environment label the database itself carries (strata_settings), if any. */
  databaseEnvironment: string | null;
}

function failed(status: ConnectionTestStatus, message: string): ConnectionTestResult {
  return {
    ok: false,
    status,
    message,
    schemaVersion: null,
    operator: null,
    traits: [],
    canWrite: false,
    databaseEnvironment: null,
  };
}

/** The sentence for a connection the database refused for its user name or password. */
export function authFailedMessage(
  profile: Pick<ConnectionProfile, 'kind' | 'target' | 'user'>,
): string {
  return `Cannot connect to ${displayTarget(profile)}: authentication failed; check the user and password.`;
}

function classify(message: string): ConnectionTestStatus {
  if (/authentication failed|no password was given|password must be a string/i.test(message))
    return 'auth_failed';
  if (/not migrated/i.test(message)) return 'not_migrated';
  if (
    /refused the connection|does not resolve|timeout|timed out|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|does not exist/i.test(
      message,
    )
  )
    return 'unreachable';
  return 'failed';
}

/** Options for testConnection. */
export interface TestConnectionOptions {
  /** The password to use (from the form or the vault). */
  password: string | null;
  /** Operator to act as when the profile names none (the console's --as). */
  operator?: string | null;
  env?: Record<string, string | undefined>;
}

/**
 * Opens a profile's target the way the console would, reads the schema version and who the
 * operator is, and closes it again. Never throws for a connection problem: the result says why.
 */
export async function testConnection(
  profile: Pick<ConnectionProfile, 'kind' | 'target' | 'user' | 'operator'>,
  opts: TestConnectionOptions,
): Promise<ConnectionTestResult> {
  let store: Store;
  let schemaVersion: string | null = null;
  if (profile.kind === 'draft') {
    if (!existsSync(profile.target)) {
      return failed('missing_file', `The draft workspace ${profile.target} does not exist.`);
    }
    try {
      store = SqliteStore.open(profile.target, { create: false });
    } catch (error) {
      return failed(
        'failed',
        error instanceof StrataError
          ? error.message
          : `${profile.target} cannot be opened as a draft workspace.`,
      );
    }
  } else {
    let pgStore: PostgresStore;
    try {
      pgStore = await PostgresStore.open(connectionUrl(profile, opts.password), {
        requireMigrated: false,
        poolSize: 1,
      });
    } catch (error) {
      const message =
        error instanceof StrataError
          ? error.message
          : `Cannot connect to ${displayTarget(profile)}.`;
      const status = classify(message);
      return failed(status, status === 'auth_failed' ? authFailedMessage(profile) : message);
    }
    store = pgStore;
    let pending: string[];
    try {
      const client = await pgStore.pool.connect();
      try {
        const applied = await appliedPostgres(client);
        pending = compareMigrations(readMigrations('postgres'), applied).pending.map((p) => p.name);
        schemaVersion = applied.length > 0 ? applied[applied.length - 1]!.name : null;
      } finally {
        // Released before any close: ending a pool waits for its checked-out clients.
        client.release();
      }
    } catch (error) {
      await store.close().catch(() => undefined);
      return failed(
        'not_migrated',
        error instanceof StrataError
          ? error.message
          : `The schema of ${displayTarget(profile)} cannot be read; run \`strata db migrate\` first.`,
      );
    }
    if (pending.length > 0) {
      await store.close().catch(() => undefined);
      return {
        ...failed(
          'not_migrated',
          `The database at ${displayTarget(profile)} is not migrated (${pending.length} pending, first ${pending[0]!}); run \`strata db migrate\` first.`,
        ),
        schemaVersion,
      };
    }
  }
  try {
    const service = await StrataConfigService.create(store, {
      operator: profile.operator ?? opts.operator ?? null,
      codec: null,
      env: opts.env ?? process.env,
    });
    const info = await service.info();
    const reach = writeReach(service.operator());
    const canWrite = reach !== null;
    const where = profile.kind === 'postgres' ? displayTarget(profile) : profile.target;
    const rights =
      reach === null
        ? 'may only read'
        : reach.level === 'global'
          ? 'may change configuration'
          : `may change configuration of ${reach.level} ${reach.scope}`;
    return {
      ok: true,
      status: 'ok',
      message: `Connected to ${where}${schemaVersion ? ` (schema ${schemaVersion})` : ''} as ${info.operator}, who ${rights}${info.operatorTraits.length > 0 ? ` (${info.operatorTraits.join(', ')})` : ''}.`,
      schemaVersion,
      operator: info.operator,
      traits: [...info.operatorTraits],
      canWrite,
      databaseEnvironment: info.environment,
    };
  } catch (error) {
    return failed(
      error instanceof StrataError && /not a user in the directory/.test(error.message)
        ? 'no_operator'
        : 'failed',
      error instanceof StrataError ? error.message : 'The workspace opened but cannot be read.',
    );
  } finally {
    await store.close().catch(() => undefined);
  }
}
