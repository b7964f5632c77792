/**
 * The shapes the .env import/export service answers with. Types only, so the contract (and
 * through it the console) can name them without loading the service.
 */
import type {
  EnvDuplicate,
  EnvIssue,
  ImportAction,
  ImportKeyOverride,
  ImportPlacement,
  ImportPlanItem,
} from '../core/env/index.js';
import type { Level, SourceLevel } from '../core/types.js';
import type { ContextInput, RevealVia } from './types.js';

/** The bytes of one .env file and the name it was chosen under (shown in reasons and errors). */
export interface EnvFile {
  fileName: string;
  bytes: Uint8Array;
}

/** One admin correction of the name -> key table: `envKey` maps to `key`. */
export interface EnvMappingPair {
  envKey: string;
  key: string;
}

/** A per-name correction made in the preview (key, level, scope or type of one row). */
export interface EnvKeyOverride extends ImportKeyOverride {
  envKey: string;
}

/** How an import is planned: placement, the tenant for tenant-level keys, mapping edits. */
export interface EnvImportOptions {
  /** 'auto' (the default) places each key by the seed's rules; a slot places every key there. */
  placement?: ImportPlacement;
  /** Tenant id for tenant-level keys under 'auto'. */
  tenant?: string | null;
  /** Name -> key corrections for this import; they win over the saved mapping. */
  mapping?: readonly EnvMappingPair[] | null;
  /** Per-row corrections, keyed by .env name. */
  overrides?: readonly EnvKeyOverride[] | null;
}

/** One row of an import preview. Secret values (value, current, inherited) are masked. */
export interface EnvPreviewItem extends ImportPlanItem {
  /** Where the inherited value comes from (null when nothing above sets the key). */
  inheritedLevel: SourceLevel | null;
  inheritedScope: string;
  /** A more general level locks the key, so a value here would have no effect. */
  lockedAbove: boolean;
}

/**
 * What importing a file would do, before anything is written. `accepted` is false when the file
 * itself is refused (then `errors` says why and `items` is empty); otherwise `errors` lists the
 * rows that cannot be imported as they stand.
 */
export interface EnvPreview {
  fileName: string;
  accepted: boolean;
  errors: EnvIssue[];
  warnings: EnvIssue[];
  /** Names set more than once: every line, the last one wins (as with dotenv). */
  duplicates: EnvDuplicate[];
  items: EnvPreviewItem[];
  summary: Record<ImportAction, number>;
  placement: ImportPlacement;
  tenant: string | null;
  /** The mapping used: saved pairs overlaid with this request's pairs. */
  mapping: EnvMappingPair[];
}

/** Which rows to write and why. */
export interface EnvStageOptions extends EnvImportOptions {
  /** .env names of the rows to import; null or absent: every row. */
  select?: readonly string[] | null;
  /** Also write overrides equal to what the slot already inherits (skipped by default). */
  includeRedundant?: boolean;
  /** Added to the recorded reason, after the file name. */
  reason?: string | null;
}

/** One written row. */
export interface EnvWrittenRow {
  line: number;
  envKey: string;
  key: string;
  level: Level;
  scope: string;
  action: 'create' | 'update' | 'redundant';
  /** Display value (masked for secrets). */
  value: string;
}

/** Result of staging (draft) or applying (PostgreSQL, one transaction) an import. */
export interface EnvStageResult {
  mode: 'live' | 'staged';
  fileName: string;
  /** The reason recorded with every change (names the file). */
  reason: string;
  written: EnvWrittenRow[];
  /** Rows left out: not selected, unchanged, or redundant without includeRedundant. */
  skipped: Array<{ line: number; envKey: string; action: ImportAction }>;
  preview: EnvPreview;
}

/** What to export. */
export interface EnvExportRequest {
  context: ContextInput;
  /**
   * Write secret values in plaintext. Each exported secret slot is recorded in the reveal log
   * first; when that fails nothing is exported.
   */
  includeSecrets?: boolean;
  /** Why secrets are exported; recorded with the reveals (only with includeSecrets). */
  reason?: string | null;
  /** Front door recorded with the reveals (default: the config service's). */
  via?: RevealVia;
  /** Key -> name corrections for the export (reverse of the import mapping). */
  mapping?: readonly EnvMappingPair[] | null;
}

/** One exported variable (no value: the text holds it). */
export interface EnvExportRow {
  envKey: string;
  key: string;
  level: SourceLevel;
  scope: string;
  secret: boolean;
}

/** An exported .env file. */
export interface EnvExport {
  /** The file content; reads back identically with dotenv and Strata's reader. */
  text: string;
  /** A suggested file name. */
  fileName: string;
  rows: EnvExportRow[];
  /** Secret keys left out because secrets were not requested. */
  omittedSecrets: string[];
  /** Keys left out because another key is exported under the same name. */
  notes: string[];
  secretsIncluded: number;
}

/** One name of the attached legacy file. */
export interface LegacyKey {
  line: number;
  envKey: string;
  key: string;
  /** Display value (masked for secrets). */
  value: string;
  secret: boolean;
  /** Some level of the database sets the key, so the file no longer decides it. */
  inDatabase: boolean;
}

/** The hybrid-mode attachment: a .env file that resolves below global as `env_legacy`. */
export interface LegacyStatus {
  attached: boolean;
  fileName: string | null;
  keys: LegacyKey[];
  /** How many keys still come only from the file. */
  onlyInFile: number;
  /** Names that could not be attached (invalid key, two names for one key) and other notes. */
  warnings: EnvIssue[];
  /** Drafts keep the attachment across restarts; live databases only for this session. */
  persisted: boolean;
}
