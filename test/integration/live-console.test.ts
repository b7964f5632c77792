import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBridgeForService } from '../../src-main/bridge/server.js';
import type { Bridge } from '../../src-main/bridge/server.js';
import { TOKEN_HEADER } from '../../src-main/contract/client.js';
import type { StrataEvent } from '../../src-main/contract/contract.js';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { pullDraft } from '../../src-main/services/draft-pull.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { migratedPg, pgQuery, tempDir, testCodec } from './service-fixtures.js';

/** "Within a second": how long a change may take to reach the other console. */
const ARRIVES_WITHIN = { timeout: 1000, interval: 10 };

let url: string;
let writer: StrataConfigService;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  url = await migratedPg();
  await loadDemo(url, { codec: codecChoiceOf(testCodec()) });
  writer = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await writer?.close();
  await dropTestDatabases();
});

/** A second console session: its own service behind a bridge, and its event stream. */
async function consoleSession(
  db: string,
): Promise<{ service: StrataConfigService; bridge: Bridge; events: StrataEvent[] }> {
  const service = await openService({ db, operator: 'superadmin', codec: testCodec() });
  const bridge = await startBridgeForService(service);
  const events: StrataEvent[] = [];
  const abort = new AbortController();
  const res = await fetch(`${bridge.origin}/api/events`, {
    headers: { [TOKEN_HEADER]: bridge.token },
    signal: abort.signal,
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith('data:'))
              events.push(JSON.parse(line.slice(5).trim()) as StrataEvent);
          }
        }
      }
    } catch {
      // Aborted at the end of the test.
    }
  })();
  cleanups.push(async () => {
    abort.abort();
    await bridge.close();
    await service.close();
  });
  return { service, bridge, events };
}

/** Live feeds of this database that are listening (past LISTEN: they ran their first read). */
async function listening(): Promise<number> {
  const [r] = await pgQuery<{ n: number }>(
    url,
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE application_name = 'strata-live' AND datname = current_database()
       AND state = 'idle' AND query NOT ILIKE 'LISTEN%' AND query <> ''`,
  );
  return r!.n;
}

function liveChanges(events: StrataEvent[]): Array<Extract<StrataEvent, { type: 'live-changes' }>> {
  return events.filter(
    (e): e is Extract<StrataEvent, { type: 'live-changes' }> => e.type === 'live-changes',
  );
}

describe('a second console session', () => {
  it('shows a change made by another admin within a second, with the value refreshed', async () => {
    const second = await consoleSession(url);
    await vi.waitFor(async () => expect(await listening()).toBe(1), { timeout: 5000 });
    await writer.set({
      level: 'department',
      scope: 'mercy_hospital/medical',
      key: 'ui.theme',
      value: 'dark',
      reason: 'other admin',
    });
    await vi.waitFor(() => {
      const slots = liveChanges(second.events).flatMap((e) => e.changes);
      expect(slots).toContainEqual(
        expect.objectContaining({
          level: 'department',
          scope: 'mercy_hospital/medical',
          key: 'ui.theme',
          action: 'set',
          changedBy: 'superadmin',
        }),
      );
    }, ARRIVES_WITHIN);
    // The event is sent after the session's index was refreshed: it already resolves the new value.
    const r = await second.service.resolve('ui.theme', { userId: 'dr_shepherd' });
    expect(r).toMatchObject({ value: 'dark', level: 'department' });
  });

  it('marks a staged change in a draft when the same slot changes in its source', async () => {
    const path = join(tempDir(), 'console.sqlite');
    await pullDraft(url, path);
    // The draft listens to its source with the password from PGPASSWORD, as on an admin's laptop.
    const previous = process.env.PGPASSWORD;
    process.env.PGPASSWORD = decodeURIComponent(new URL(url).password);
    cleanups.push(async () => {
      if (previous === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = previous;
    });
    const staged = { level: 'tenant' as const, scope: 'general_hospital', key: 'ui.theme' };
    const session = await consoleSession(path);
    await session.service.set({ ...staged, value: 'dark', reason: 'mine' });
    await vi.waitFor(async () => expect(await listening()).toBe(2), { timeout: 5000 });
    await writer.set({ ...staged, value: 'neutral', reason: 'theirs' });
    await vi.waitFor(() => {
      expect(liveChanges(session.events).flatMap((e) => e.conflicts)).toContainEqual(staged);
    }, ARRIVES_WITHIN);
  });
});
