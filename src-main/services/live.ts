/**
 * Live updates: a LISTEN on PostgreSQL's `strata_config` channel (migration 0210), so a console
 * shows changes made by others within a second and marks staged changes they now conflict
 * with, and a service that reads the configuration can refresh without a restart
 * (docs/LIVE-UPDATES.md).
 *
 * A notification only names a range of audit rows; the feed reads those rows from config_audit
 * with its own connection, so row-level security decides what each listener learns (keys,
 * scopes, operators), and values never travel at all. The feed remembers the newest seq it has
 * seen: after a lost connection it reconnects with backoff and catches up with `seq > last`, so
 * nothing committed while it was away is missed.
 */
import pg from 'pg';
import { StrataError } from '../core/types.js';
import type { Level, Slot } from '../core/types.js';
import type { ConfigIndex } from '../core/config-index.js';
import { PostgresStore } from '../store/postgres-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { StrataConfigService } from './config-service.js';
import { redactUrl, slotKey } from '../store/store.js';

/** The NOTIFY channel of migration 0210. */
export const LIVE_CHANNEL = 'strata_config';

/** One committed change, as the audit trail records it (no values). */
export interface LiveChange {
  seq: number;
  level: Level;
  scope: string;
  key: string;
  changeType: 'create' | 'update' | 'delete';
  changedBy: string;
  changedAt: string;
  pushId: string | null;
}

/** What a feed reports. */
export type LiveEvent =
  | {
      kind: 'changes';
      changes: LiveChange[];
      /** Audit rows in the announced range this reader may not see (row-level security). */
      hidden: number;
      lastSeq: number;
    }
  | { kind: 'rules' }
  | { kind: 'status'; connected: boolean; message: string | null };

/** Options for LiveFeed.start. */
export interface LiveFeedOptions {
  /** PostgreSQL URL (the same database the console or service reads). */
  url: string;
  /** Connection settings to use instead of `url` (e.g. an open pool's, password included). */
  connection?: pg.ClientConfig;
  onEvent: (event: LiveEvent) => void;
  /** Report changes after this audit seq (default: only changes committed after start). */
  sinceSeq?: number | null;
  /** Reconnect backoff in milliseconds (default 500 doubling up to 15,000). */
  retry?: { initialMs?: number; maxMs?: number };
}

interface Notice {
  v?: unknown;
  kind?: unknown;
  first_seq?: unknown;
  last_seq?: unknown;
  count?: unknown;
}

const LEVEL_SET: ReadonlySet<string> = new Set(['global', 'tenant', 'department', 'group', 'user']);
const PAGE = 5000;

/** A LISTEN connection that turns notifications into LiveEvents. */
export class LiveFeed {
  private client: pg.Client | null = null;
  private last = 0;
  private closing = false;
  private isConnected = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delay: number;
  private queue: Promise<void> = Promise.resolve();
  readonly target: string;

  private constructor(private readonly opts: LiveFeedOptions) {
    this.target = redactUrl(opts.url);
    this.delay = opts.retry?.initialMs ?? 500;
  }

  /** Connects and listens; the first connection failure is thrown as a StrataError. */
  static async start(opts: LiveFeedOptions): Promise<LiveFeed> {
    if (typeof opts.onEvent !== 'function') {
      throw new StrataError('invalid', 'A live feed needs an onEvent callback.');
    }
    const feed = new LiveFeed(opts);
    const since = opts.sinceSeq;
    if (since !== undefined && since !== null) {
      if (!Number.isSafeInteger(since) || since < 0) {
        throw new StrataError('invalid', 'sinceSeq must be a whole number of at least 0.');
      }
      feed.last = since;
    }
    try {
      await feed.connect(since === undefined || since === null);
    } catch (err) {
      await feed.close();
      const e = err as { code?: string; message?: string };
      if (e.code === '42P01') {
        throw new StrataError(
          'invalid',
          `${feed.target} has no audit trail; run \`strata db migrate\` first.`,
        );
      }
      throw new StrataError(
        'invalid',
        `Cannot listen for live changes on ${feed.target}: ${(e.message ?? 'unknown error').replace(/\.$/, '')}.`,
      );
    }
    return feed;
  }

  /** The newest audit seq reported (or skipped as already current at start). */
  get lastSeq(): number {
    return this.last;
  }

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.isConnected;
  }

  /** Resolves once every notification received so far has been handled (tests, shutdown). */
  async idle(): Promise<void> {
    await this.queue;
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    this.isConnected = false;
    if (c !== null) await c.end().catch(() => undefined);
  }

  private async connect(startAtNewest: boolean): Promise<void> {
    const client = new pg.Client({
      ...(this.opts.connection ?? { connectionString: this.opts.url }),
      application_name: 'strata-live',
      options: '-c TimeZone=UTC',
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    });
    client.on('notification', (msg) => {
      if (msg.channel !== LIVE_CHANNEL) return;
      this.enqueue(() => this.onNotice(client, msg.payload ?? ''));
    });
    client.on('error', () => this.lost(client, 'the connection was lost'));
    client.on('end', () => this.lost(client, 'the connection was closed'));
    await client.connect();
    if (this.closing) {
      // close() ran while this connection was being made.
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    try {
      await client.query(`LISTEN ${LIVE_CHANNEL}`);
      if (startAtNewest) {
        const r = await client.query<{ s: string }>(
          'SELECT coalesce(max(seq), 0)::text AS s FROM config_audit',
        );
        this.last = Math.max(this.last, Number(r.rows[0]!.s));
      }
    } catch (err) {
      if (this.client === client) this.client = null;
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    this.isConnected = true;
    this.delay = this.opts.retry?.initialMs ?? 500;
    this.emit({ kind: 'status', connected: true, message: null });
    // Whatever committed between the last seen seq and LISTEN taking effect.
    if (!startAtNewest) this.enqueue(() => this.catchUp(client, null, null));
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => {
      this.emit({
        kind: 'status',
        connected: this.isConnected,
        message: `Reading live changes failed: ${String((err as Error).message ?? err)}`,
      });
    });
  }

  private emit(event: LiveEvent): void {
    try {
      this.opts.onEvent(event);
    } catch {
      // A listener's own failure must not stop the feed.
    }
  }

  private async onNotice(client: pg.Client, payload: string): Promise<void> {
    let notice: Notice;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch {
      return;
    }
    if (notice.kind === 'rules') {
      this.emit({ kind: 'rules' });
      return;
    }
    if (notice.kind !== 'config') return;
    const lastSeq = Number(notice.last_seq);
    const count = Number(notice.count);
    if (!Number.isSafeInteger(lastSeq) || lastSeq <= this.last) return;
    const firstSeq = Number(notice.first_seq);
    const announced =
      Number.isSafeInteger(firstSeq) && Number.isSafeInteger(count) ? { firstSeq, count } : null;
    await this.catchUp(client, lastSeq, announced);
  }

  /** Reads audit rows after the last seen seq (up to `upTo`) and reports them. */
  private async catchUp(
    client: pg.Client,
    upTo: number | null,
    announced: { firstSeq: number; count: number } | null,
  ): Promise<void> {
    const changes: LiveChange[] = [];
    const from = this.last;
    for (;;) {
      const r = await client.query<{
        seq: string;
        config_table: string;
        config_id: string;
        key: string;
        change_type: 'create' | 'update' | 'delete';
        changed_by: string;
        changed_at: string;
        push_id: string | null;
      }>(
        `SELECT seq::text, config_table::text, coalesce(config_id, '')::text AS config_id, key::text,
                change_type::text, changed_by,
                to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS changed_at, push_id
         FROM config_audit WHERE seq > $1 AND ($2::bigint IS NULL OR seq <= $2::bigint)
         ORDER BY seq LIMIT ${PAGE}`,
        [String(this.last), upTo === null ? null : String(upTo)],
      );
      for (const row of r.rows) {
        const seq = Number(row.seq);
        this.last = Math.max(this.last, seq);
        if (!LEVEL_SET.has(row.config_table)) continue;
        changes.push({
          seq,
          level: row.config_table as Level,
          scope: row.config_id,
          key: row.key,
          changeType: row.change_type,
          changedBy: row.changed_by,
          changedAt: row.changed_at,
          pushId: row.push_id,
        });
      }
      if (r.rows.length < PAGE) break;
    }
    if (upTo !== null) this.last = Math.max(this.last, upTo);
    // Rows of the announced range that row-level security kept from this reader.
    let hidden = 0;
    if (announced !== null && from < announced.firstSeq) {
      const seen = changes.filter(
        (c) => c.seq >= announced.firstSeq && upTo !== null && c.seq <= upTo,
      ).length;
      hidden = Math.max(0, announced.count - seen);
    }
    if (changes.length > 0 || hidden > 0) {
      this.emit({ kind: 'changes', changes, hidden, lastSeq: this.last });
    }
  }

  private lost(client: pg.Client, why: string): void {
    if (this.client !== client || this.closing) return;
    this.client = null;
    this.isConnected = false;
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    this.emit({
      kind: 'status',
      connected: false,
      message: `Live updates paused: ${why}; reconnecting.`,
    });
    this.schedule();
  }

  private schedule(): void {
    if (this.closing || this.timer !== null) return;
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, this.opts.retry?.maxMs ?? 15_000);
    const timer = setTimeout(() => {
      this.timer = null;
      if (this.closing) return;
      this.connect(false).catch((err: unknown) => {
        this.emit({
          kind: 'status',
          connected: false,
          message: `Live updates paused: ${String((err as Error).message ?? err)}; retrying.`,
        });
        this.schedule();
      });
    }, wait);
    // A feed waiting to reconnect must not keep a finished process alive.
    timer.unref?.();
    this.timer = timer;
  }
}

/** A live change as the console sees it. */
export interface LiveSlotChange extends Slot {
  action: 'set' | 'unset';
  changedBy: string;
  changedAt: string;
  pushId: string | null;
}

/** Collapses audit rows to one change per slot (the newest wins). */
export function slotChanges(changes: readonly LiveChange[]): LiveSlotChange[] {
  const bySlot = new Map<string, LiveSlotChange>();
  for (const c of changes) {
    bySlot.set(slotKey(c), {
      level: c.level,
      scope: c.scope,
      key: c.key,
      action: c.changeType === 'delete' ? 'unset' : 'set',
      changedBy: c.changedBy,
      changedAt: c.changedAt,
      pushId: c.pushId,
    });
  }
  return [...bySlot.values()];
}

/**
 * Staged slots a live change now conflicts with: the same slot changed underneath the draft.
 * (A change at a more general level is not a conflict: the plan shows it as "parent changed".)
 */
export function conflictingSlots(staged: readonly Slot[], changes: readonly Slot[]): Slot[] {
  const changed = new Set(changes.map(slotKey));
  return staged
    .filter((s) => changed.has(slotKey(s)))
    .map((s) => ({ level: s.level, scope: s.scope, key: s.key }));
}

/**
 * Brings an in-memory index up to date for changed slots by reading just those slots (one
 * query per level), instead of rebuilding it: the refresh a console or a consuming service does
 * on each live event.
 */
export async function refreshSlots(
  index: ConfigIndex,
  store: Pick<Store, 'readEntries'>,
  slots: readonly Slot[],
): Promise<void> {
  if (slots.length === 0) return;
  const unique = new Map(
    slots.map((s) => [slotKey(s), { level: s.level, scope: s.scope, key: s.key }]),
  );
  const current = await store.readEntries([...unique.values()]);
  const found = new Set<string>();
  for (const e of current) {
    found.add(slotKey(e));
    index.upsert(e);
  }
  for (const [k, s] of unique) if (!found.has(k)) index.remove(s);
}

/** What a console session is told about live changes (a contract event, see impact-channels). */
export type LiveConsoleEvent =
  | {
      type: 'live-changes';
      /** One entry per changed slot, newest state wins (no values: fetch what you show). */
      changes: LiveSlotChange[];
      /** Staged slots of the open draft that these changes now conflict with. */
      conflicts: Slot[];
      /** Changes this operator may not see (other tenants), counted only. */
      hidden: number;
      lastSeq: number;
    }
  | { type: 'live-status'; connected: boolean; message: string | null }
  | { type: 'rules-changed' };

/** Options for startConsoleLive. */
export interface ConsoleLiveOptions {
  /** The PostgreSQL database the console shows (or the one its draft was pulled from). */
  url: string;
  /** Connection settings to use instead of `url` (e.g. an open pool's, password included). */
  connection?: pg.ClientConfig;
  emit: (event: LiveConsoleEvent) => void;
  /** The open draft's staged slots, for conflict marking (omit for a live workspace). */
  stagedSlots?: () => Promise<readonly Slot[]> | readonly Slot[];
  /** Runs before an event is emitted, e.g. refreshSlots() on the console's index. */
  refresh?: (slots: Slot[]) => Promise<void>;
}

/**
 * Wires a LiveFeed to a console session: each batch refreshes what the console holds, then
 * arrives as one `live-changes` event listing the changed slots and the staged changes they
 * now conflict with, so the console can mark them before the admin presses Push.
 */
export async function startConsoleLive(opts: ConsoleLiveOptions): Promise<LiveFeed> {
  // Batches are refreshed and emitted one after another, in the order they arrived.
  let chain: Promise<void> = Promise.resolve();
  return LiveFeed.start({
    url: opts.url,
    ...(opts.connection ? { connection: opts.connection } : {}),
    onEvent: (event) => {
      if (event.kind === 'status') {
        opts.emit({ type: 'live-status', connected: event.connected, message: event.message });
        return;
      }
      if (event.kind === 'rules') {
        opts.emit({ type: 'rules-changed' });
        return;
      }
      const changes = slotChanges(event.changes);
      chain = chain.then(async () => {
        try {
          if (opts.refresh) await opts.refresh(changes);
        } catch {
          // The event still goes out: the console re-reads what it shows.
        }
        let conflicts: Slot[];
        try {
          conflicts = opts.stagedSlots ? conflictingSlots(await opts.stagedSlots(), changes) : [];
        } catch {
          conflicts = [];
        }
        opts.emit({
          type: 'live-changes',
          changes,
          conflicts,
          hidden: event.hidden,
          lastSeq: event.lastSeq,
        });
      });
    },
  });
}

/**
 * Starts the live feed of an open console workspace: a PostgreSQL workspace listens to itself
 * (its index refreshed slot by slot); a draft listens to the database it was pulled from (the
 * password from PGPASSWORD or ~/.pgpass) and has its staged changes checked for conflicts. A
 * fresh draft, or a source that cannot be reached (offline), gives null after telling the
 * console with a live-status event: live updates are a convenience, never a reason to fail.
 */
export async function startWorkspaceLive(
  service: StrataConfigService,
  emit: (event: LiveConsoleEvent) => void,
): Promise<LiveFeed | null> {
  const store = service.store;
  try {
    if (store instanceof PostgresStore) {
      const { connectionString, ...rest } = store.pool.options;
      return await startConsoleLive({
        url: store.target,
        connection: { ...rest, ...(connectionString !== undefined ? { connectionString } : {}) },
        emit,
        refresh: (slots) => refreshSlots(service.index, store, slots),
      });
    }
    if (store instanceof SqliteStore) {
      const source = store.meta('source');
      if (source === null) return null;
      return await startConsoleLive({
        url: source,
        emit,
        stagedSlots: () =>
          store.stagedChanges().map((r) => ({ level: r.level, scope: r.scope, key: r.key })),
      });
    }
  } catch (err) {
    emit({
      type: 'live-status',
      connected: false,
      message: err instanceof StrataError ? err.message : 'Live updates are not available.',
    });
  }
  return null;
}
