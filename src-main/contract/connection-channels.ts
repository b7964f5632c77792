/**
 * The Connections channels of the contract: list, save, delete, test and open connection
 * profiles, and what the environment banner shows about the open workspace. Spread into the
 * contract's request table; browser-safe (zod and types only). Passwords travel only towards
 * main (save, test, open) and are never part of an answer.
 */
import { z } from 'zod';
import type { ConnectionProfile, ConnectionTestResult } from '../services/connection-profiles.js';

export type {
  ConnectionProfile,
  ConnectionTestResult,
  ConnectionTestStatus,
} from '../services/connection-profiles.js';

/** What a profile opens. */
export const PROFILE_KINDS = ['postgres', 'draft'] as const;
export type ProfileKind = (typeof PROFILE_KINDS)[number];

/**
 * The environment a profile is labelled with (a draft: the environment it was pulled from); the
 * labels, most dangerous first.
 */
export const PROFILE_ENVIRONMENTS = ['production', 'staging', 'development'] as const;
export type ProfileEnvironment = (typeof PROFILE_ENVIRONMENTS)[number];

/**
 * The environment a free-text label names (a database's `strata.environment`, a draft's source):
 * prod* and live are production; stag*, test* and uat are staging; dev* is development; anything
 * else, or no label, names none. The console's banner and the served workspace's caution both
 * read labels through this one rule.
 */
export function environmentOfLabel(label: string | null | undefined): ProfileEnvironment | null {
  const l = (label ?? '').toLowerCase();
  if (l.startsWith('prod') || l === 'live') return 'production';
  if (l.startsWith('stag') || l.startsWith('test') || l === 'uat') return 'staging';
  if (l.startsWith('dev')) return 'development';
  return null;
}

/** Longest URL or path a profile may name. */
export const MAX_PROFILE_TARGET = 2000;
/** Longest password accepted. */
export const MAX_PASSWORD = 1000;

const id = z.string().min(1).max(100);
const kind = z.enum(PROFILE_KINDS);
const environment = z.enum(PROFILE_ENVIRONMENTS);
const target = z.string().max(MAX_PROFILE_TARGET);
const name = z.string().max(200);
const user = z.string().max(100).nullable().optional();
const password = z.string().max(MAX_PASSWORD);

/** Request schemas of the Connections channels. */
export const connectionRequestSchemas = {
  'connections:list': z.strictObject({}),
  'connections:save': z.strictObject({
    id: id.nullable().optional(),
    name,
    kind,
    environment,
    target,
    user,
    operator: user,
    /** A new password; omitted keeps the stored one, '' removes it. */
    password: password.optional(),
  }),
  'connections:delete': z.strictObject({ id }),
  /** A saved profile (by id) or the unsaved form, with an optional password to try. */
  'connections:test': z.union([
    z.strictObject({ id, password: password.optional() }),
    z.strictObject({
      profile: z.strictObject({ kind, target, user, operator: user }),
      password: password.optional(),
    }),
  ]),
  /** Production needs `confirmed: true`: the console asks the operator first. */
  'connections:open': z.strictObject({
    id,
    password: password.optional(),
    confirmed: z.boolean().optional(),
  }),
  'connections:current': z.strictObject({}),
} as const;

/** The Connections channel names. */
export type ConnectionChannel = keyof typeof connectionRequestSchemas;

/** A profile as the console lists it. */
export interface ProfileView extends ConnectionProfile {
  /** The target with the user, never a password. */
  displayTarget: string;
  /** True when the vault holds a password for it. */
  hasPassword: boolean;
}

/** What the banner needs about the open workspace. */
export interface CurrentWorkspace {
  /** The profile it was opened from (null: the workspace the console started with). */
  profileId: string | null;
  name: string;
  kind: ProfileKind;
  /** The label shown: the more cautious of the profile's and the database's own. */
  environment: ProfileEnvironment | null;
  /** The target with any password removed, or the draft path. */
  target: string;
  /** For drafts: the database it was pulled from (no password), else null. */
  source: string | null;
}

/** Where passwords are kept, in words for the console. */
export interface VaultInfo {
  persistent: boolean;
  note: string;
}

/** The Connections screen's data. */
export interface ConnectionList {
  profiles: ProfileView[];
  vault: VaultInfo;
  current: CurrentWorkspace;
}

/** Sent after the served workspace switched: the console reloads everything it shows. */
export interface WorkspaceChangedEvent {
  type: 'workspace-changed';
  workspace: CurrentWorkspace;
}

/** Response types of the Connections channels. */
export interface ConnectionChannelResponses {
  'connections:list': ConnectionList;
  'connections:save': ProfileView;
  'connections:delete': { deleted: boolean };
  'connections:test': ConnectionTestResult;
  'connections:open': CurrentWorkspace;
  'connections:current': CurrentWorkspace;
}

/** The environments in the order the form offers them: least dangerous first. */
export const ENVIRONMENT_CHOICES: readonly ProfileEnvironment[] = [
  ...PROFILE_ENVIRONMENTS,
].reverse();
