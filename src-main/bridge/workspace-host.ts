/**
 * The workspace a front door serves, and the switch to another one. The web bridge and the
 * Electron main register ONE stable handler table (`host.handlers`) that forwards every call to
 * the handler table of the workspace open right now; `connections:open` opens the new workspace
 * first (a failure leaves the old one serving), swaps it in, lets the calls still running on the
 * old one finish, stops its live feed, closes it, and tells the console to reload
 * (`workspace-changed`). Opens are serialised, so two quick clicks cannot interleave.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { StrataError } from '../core/types.js';
import type { ConnectionsApi } from '../contract/connection-handlers.js';
import {
  environmentOfLabel,
  PROFILE_ENVIRONMENTS,
  type ConnectionList,
  type CurrentWorkspace,
  type ProfileEnvironment,
  type ProfileKind,
  type ProfileView,
} from '../contract/connection-channels.js';
import {
  CHANNELS,
  type Channel,
  type DraftService,
  type ParsedRequestOf,
  type StrataEvent,
} from '../contract/contract.js';
import { createHandlers, type HandlerTable } from '../contract/handlers.js';
import { StrataConfigService, openService } from '../services/config-service.js';
import {
  ProfileStore,
  authFailedMessage,
  connectionUrl,
  displayTarget,
  normaliseProfile,
  testConnection,
  type ConnectionProfile,
  type ConnectionTestResult,
  type SecretVault,
} from '../services/connection-profiles.js';
import { startWorkspaceLive, type LiveFeed } from '../services/live.js';
import type { ConfigService, WorkspaceInfo } from '../services/types.js';
import { workspaceDrafts } from './drafts.js';

/** Longest wait for calls still running on a workspace being closed. */
const DRAIN_MS = 10_000;

/** Connection profiles for a front door: where they are kept and where passwords go. */
export interface ConnectionsOptions {
  /** Folder of connections.json (the user data folder). */
  dataDir: string;
  /** Where passwords go (default: memory only, for the browser transport). */
  vault: SecretVault;
  /** Directory user to act as when a profile names none (the console's --as). */
  operator?: string | null;
  /** Environment for opened services (CONFIG_ENCRYPTION_KEY, PGPASSWORD ...). */
  env?: Record<string, string | undefined>;
}

/** Options for a workspace host. */
export interface WorkspaceHostOptions {
  /** The workspace the front door starts with. */
  service: ConfigService;
  /** Its draft service (default: workspaceDrafts(service)); null: none. */
  drafts?: DraftService | null;
  /** Name shown for the starting workspace (default: its file or database name). */
  name?: string | null;
  /** Profiles and switching; without them the host serves the one workspace it was given. */
  connections?: ConnectionsOptions | null;
  /** Receives events for the console. */
  emit: (event: StrataEvent) => void;
  /** Listen for changes made by others (default true). */
  live?: boolean;
  onInternalError?: (channel: Channel, error: unknown) => void;
}

interface Active {
  service: ConfigService;
  table: HandlerTable;
  live: Promise<LiveFeed | null>;
  view: CurrentWorkspace;
  running: Set<Promise<unknown>>;
}

/** The more cautious of two environment labels (production beats staging beats development). */
export function cautiousEnvironment(
  ...labels: Array<string | null | undefined>
): ProfileEnvironment | null {
  const known = labels.map(environmentOfLabel);
  for (const env of PROFILE_ENVIRONMENTS) if (known.includes(env)) return env;
  return null;
}

/** The label the database itself carries (a draft: also the one of its source). */
function ownEnvironment(info: WorkspaceInfo): ProfileEnvironment | null {
  return cautiousEnvironment(info.environment, info.source?.environment);
}

/** What the banner shows about a workspace, opened from a profile (profileId) or not (null). */
function workspaceView(
  info: WorkspaceInfo,
  profileId: string | null,
  name: string,
  environment: ProfileEnvironment | null,
): CurrentWorkspace {
  return {
    profileId,
    name,
    kind: info.kind,
    environment,
    target: info.target,
    source: info.source?.target ?? null,
  };
}

function defaultName(kind: ProfileKind, target: string): string {
  if (kind === 'draft') return basename(target);
  try {
    const db = decodeURIComponent(new URL(target).pathname.replace(/^\//, ''));
    return db || target;
  } catch {
    return target;
  }
}

/** Serves one workspace at a time and switches between connection profiles. */
export class WorkspaceHost implements ConnectionsApi {
  /** The stable table a front door registers; every call goes to the open workspace. */
  readonly handlers: HandlerTable;
  private readonly opts: WorkspaceHostOptions;
  private readonly profiles: ProfileStore | null;
  private active: Active | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(opts: WorkspaceHostOptions) {
    this.opts = opts;
    const c = opts.connections;
    this.profiles = c ? new ProfileStore(c.dataDir, c.vault) : null;
    const table = {} as Record<Channel, (request: unknown) => Promise<unknown>>;
    for (const channel of CHANNELS) {
      // A switch waits for the workspace's own calls; the Connections calls (the open itself
      // among them) belong to the host, not to the workspace being retired.
      const tracked = !channel.startsWith('connections:');
      table[channel] = (request: unknown) => {
        const active = this.active!;
        const call =
          channel === 'workspace:info'
            ? this.decorateInfo(active, active.table['workspace:info'](request))
            : active.table[channel](request);
        if (!tracked) return call;
        active.running.add(call);
        void call.finally(() => active.running.delete(call));
        return call;
      };
    }
    this.handlers = table as HandlerTable;
  }

  /**
   * A workspace opened from a profile reports the profile's name and the more cautious label,
   * so the banner needs no second request to show which environment is open.
   */
  private async decorateInfo(
    active: Active,
    answer: ReturnType<HandlerTable['workspace:info']>,
  ): ReturnType<HandlerTable['workspace:info']> {
    const envelope = await answer;
    const { profileId, name, environment } = active.view;
    if (!envelope.ok || profileId === null) return envelope;
    return {
      ok: true,
      data: {
        ...envelope.data,
        environment: environment ?? envelope.data.environment,
        connection: { profileId, name },
      },
    };
  }

  /** Starts a host over the front door's first workspace. */
  static async start(opts: WorkspaceHostOptions): Promise<WorkspaceHost> {
    const host = new WorkspaceHost(opts);
    const info = await opts.service.info();
    const view = workspaceView(
      info,
      null,
      opts.name ?? defaultName(info.kind, info.target),
      ownEnvironment(info),
    );
    host.active = host.activate(opts.service, view, opts.drafts);
    return host;
  }

  /** The config service open right now. */
  get service(): ConfigService {
    return this.active!.service;
  }

  private activate(
    service: ConfigService,
    view: CurrentWorkspace,
    drafts?: DraftService | null,
  ): Active {
    // Calls still finishing on a workspace being closed must not reach the console.
    const emit = (event: StrataEvent): void => {
      if (this.active?.service === service) this.opts.emit(event);
    };
    const table = createHandlers(service, {
      drafts: drafts === undefined ? workspaceDrafts(service) : drafts,
      emit,
      ...(this.opts.onInternalError ? { onInternalError: this.opts.onInternalError } : {}),
      connections: this.profiles ? this : null,
    });
    // Started in the background: an unreachable source must not delay the console.
    const live: Promise<LiveFeed | null> =
      this.opts.live !== false && service instanceof StrataConfigService
        ? startWorkspaceLive(service, emit).catch(() => null)
        : Promise.resolve(null);
    return { service, table, live, view, running: new Set() };
  }

  private store(): ProfileStore {
    if (!this.profiles) {
      throw new StrataError('invalid', 'This console cannot switch connections.');
    }
    return this.profiles;
  }

  private async view(p: ConnectionProfile): Promise<ProfileView> {
    const store = this.store();
    return {
      ...p,
      displayTarget: displayTarget(p),
      hasPassword: p.kind === 'postgres' && (await store.vault.get(p.id)) !== null,
    };
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Every profile, where passwords are kept, and what is open now. */
  async list(): Promise<ConnectionList> {
    const store = this.store();
    const profiles = await Promise.all(store.list().map((p) => this.view(p)));
    return {
      profiles,
      vault: { persistent: store.vault.persistent, note: store.vault.note },
      current: this.active!.view,
    };
  }

  /** Creates or updates a profile (a password in the URL goes to the vault, not the file). */
  async save(req: ParsedRequestOf<'connections:save'>): Promise<ProfileView> {
    const saved = await this.store().save({
      id: req.id ?? null,
      name: req.name,
      kind: req.kind,
      environment: req.environment,
      target: req.target,
      user: req.user ?? null,
      operator: req.operator ?? null,
      ...(req.password !== undefined ? { password: req.password } : {}),
    });
    return this.view(saved);
  }

  /** Removes a profile and its password. */
  async delete(id: string): Promise<{ deleted: boolean }> {
    if (this.active?.view.profileId === id) {
      throw new StrataError(
        'invalid',
        'That connection is open; open another one before deleting it.',
      );
    }
    return { deleted: await this.store().delete(id) };
  }

  /** Tests a saved profile or the unsaved form. */
  async test(req: ParsedRequestOf<'connections:test'>): Promise<ConnectionTestResult> {
    const store = this.store();
    const c = this.opts.connections!;
    let profile: Pick<ConnectionProfile, 'kind' | 'target' | 'user' | 'operator'>;
    let password: string | null = req.password ?? null;
    if ('id' in req) {
      profile = store.get(req.id);
      if (password === null) password = await store.vault.get(req.id);
    } else {
      const { fields, urlPassword } = normaliseProfile({
        name: 'test',
        kind: req.profile.kind,
        environment: 'development',
        target: req.profile.target,
        user: req.profile.user ?? null,
        operator: req.profile.operator ?? null,
      });
      profile = fields;
      if (password === null || password === '') password = urlPassword;
    }
    return testConnection(profile, {
      password,
      operator: c.operator ?? null,
      env: c.env ?? process.env,
    });
  }

  /** What is open now. */
  current(): Promise<CurrentWorkspace> {
    return Promise.resolve(this.active!.view);
  }

  /** Opens a profile and serves it instead of the current workspace. */
  open(req: ParsedRequestOf<'connections:open'>): Promise<CurrentWorkspace> {
    return this.serial(async () => {
      if (this.closed) throw new StrataError('invalid', 'The console is shutting down.');
      const store = this.store();
      const c = this.opts.connections!;
      const profile = store.get(req.id);
      if (profile.environment === 'production' && req.confirmed !== true) {
        throw new StrataError(
          'invalid',
          `Opening ${profile.name} (production) needs confirmation; confirm in the console first.`,
        );
      }
      if (profile.kind === 'draft' && !existsSync(profile.target)) {
        throw new StrataError('invalid', `The draft workspace ${profile.target} does not exist.`);
      }
      const password = req.password || (await store.vault.get(profile.id));
      const db = profile.kind === 'postgres' ? connectionUrl(profile, password) : profile.target;
      let service: StrataConfigService;
      try {
        service = await openService({
          db,
          operator: profile.operator ?? c.operator ?? null,
          env: c.env ?? process.env,
        });
      } catch (error) {
        if (error instanceof StrataError) {
          throw new StrataError(
            error.code,
            /authentication failed|password must be a string/.test(error.message)
              ? authFailedMessage(profile)
              : error.message,
          );
        }
        throw error;
      }
      const info = await service.info();
      const own = ownEnvironment(info);
      if (req.confirmed !== true && own === 'production') {
        await service.close().catch(() => undefined);
        throw new StrataError(
          'invalid',
          `The database behind ${profile.name} labels itself production; label the profile production and confirm to open it.`,
        );
      }
      // `own` is already a canonical label, which cautiousEnvironment() reads back unchanged.
      const view = workspaceView(
        info,
        profile.id,
        profile.name,
        cautiousEnvironment(profile.environment, own),
      );
      const previous = this.active!;
      this.active = this.activate(service, view);
      try {
        store.touch(profile.id);
      } catch {
        // The profile file went away meanwhile; the workspace is open regardless.
      }
      await this.retire(previous);
      this.opts.emit({ type: 'workspace-changed', workspace: view });
      return view;
    });
  }

  /** Waits for the calls still running on a workspace, then stops and closes it. */
  private async retire(old: Active): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...old.running]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, DRAIN_MS);
      }),
    ]);
    clearTimeout(timer);
    await this.shutdown(old, true);
  }

  /**
   * Stops a workspace's live feed and, when `closeService` and profiles are in use, closes its
   * service (the starting workspace belongs to whoever opened it unless profiles are in use).
   */
  private async shutdown(active: Active, closeService: boolean): Promise<void> {
    await (await active.live)?.close();
    if (this.profiles && closeService) await active.service.close().catch(() => undefined);
  }

  /**
   * Stops the live feed and, when this host switches workspaces, closes the open one
   * (`keepService`: leave it open, for a front door that failed to start and closes it itself).
   */
  async close(opts: { keepService?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.shutdown(this.active!, !opts.keepService);
  }
}
