// @vitest-environment jsdom
/**
 * The Directory tab of the Audit log dialog over a fake transport: the configuration tab still
 * loads on open, the directory tab loads on switch, its rows show what changed (memberships as
 * groups, long values shortened), the filter form's values reach 'audit:directory', and a refusal
 * (a draft keeps no directory history) is shown as a message instead of a table.
 */
import {
  act,
  cleanup,
  configure,
  fireEvent,
  render,
  screen,
  waitFor,
  within,
} from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src-main/contract/client.js';
import type {
  Channel,
  DirectoryAuditRecord,
  Envelope,
  ResponseOf,
  StrataBridgeApi,
} from '../../src-main/contract/contract.js';
import { AuditLog } from '../../src-renderer/components/audit-log.js';
import { AUDIT_PAGE } from '../../src-renderer/store/slices/audit.js';
import {
  createStrataStore,
  StoreProvider,
  type StrataStore,
} from '../../src-renderer/store/store.js';

configure({ defaultHidden: true, asyncUtilTimeout: 5000 });

const DRAFT_MESSAGE =
  'A draft keeps no directory history: it is audited by PostgreSQL when a push writes it.';

const TRAITS: DirectoryAuditRecord = {
  seq: 12,
  kind: 'user',
  ref: 'dr_grey',
  field: 'traits',
  oldValue: '["clinician"]',
  newValue: '["clinician","admin"]',
  changeType: 'update',
  changedBy: 'alice',
  changedAt: '2026-03-01T10:00:00.000Z',
  reason: 'promotion',
  pushId: null,
};

const MEMBERSHIP: DirectoryAuditRecord = {
  seq: 11,
  kind: 'membership',
  ref: 'dr_grey',
  field: 'cardiology',
  oldValue: null,
  newValue: '0',
  changeType: 'create',
  changedBy: 'alice',
  changedAt: '2026-03-01T09:59:00.000Z',
  reason: null,
  pushId: 'push-7',
};

const LONG_ROW = JSON.stringify({
  id: 'mercy_hospital',
  name: 'Mercy Hospital and Regional Care Centre',
  tenant_type: 'healthcare',
});

const TENANT: DirectoryAuditRecord = {
  seq: 3,
  kind: 'tenant',
  ref: 'mercy_hospital',
  field: '(row)',
  oldValue: null,
  newValue: LONG_ROW,
  changeType: 'create',
  changedBy: 'bob',
  changedAt: '2026-02-01T08:00:00.000Z',
  reason: 'onboarding',
  pushId: null,
};

/** A transport that records every call and answers from `answer`. */
function fakeTransport(answer: (channel: Channel, request: unknown) => Envelope<unknown>): {
  api: StrataBridgeApi;
  calls: Array<{ channel: Channel; request: unknown }>;
} {
  const calls: Array<{ channel: Channel; request: unknown }> = [];
  const api: StrataBridgeApi = {
    invoke<C extends Channel>(channel: C, request: unknown) {
      calls.push({ channel, request });
      return Promise.resolve(answer(channel, request) as Envelope<ResponseOf<C>>);
    },
    onEvent: () => () => undefined,
  };
  return { api, calls };
}

function renderAudit(api: StrataBridgeApi): StrataStore {
  const store = createStrataStore(createClient(api));
  render(
    <StoreProvider store={store}>
      <AuditLog />
    </StoreProvider>,
  );
  act(() => store.getState().setAuditOpen(true));
  return store;
}

function cellTexts(row: HTMLElement): string[] {
  return within(row)
    .getAllByRole('cell')
    .map((c) => c.textContent ?? '');
}

afterEach(() => cleanup());

describe('audit log, directory tab', () => {
  it('loads the configuration tab on open and the directory records on switching tabs', async () => {
    const { api, calls } = fakeTransport((channel, request) => {
      if (channel === 'audit:list') return { ok: true, data: [] };
      if (channel === 'audit:directory') {
        const r = request as { kind?: string };
        return { ok: true, data: r.kind === 'tenant' ? [TENANT] : [TRAITS, MEMBERSHIP] };
      }
      return { ok: false, error: { code: 'invalid', message: `unexpected ${channel}` } };
    });
    const store = renderAudit(api);
    await waitFor(() => expect(screen.getByText('No audit records match.')).toBeTruthy());
    expect(screen.getByRole('region', { name: 'Audit log' })).toBeTruthy();
    expect(calls.map((c) => c.channel)).toEqual(['audit:list']);

    fireEvent.click(screen.getByRole('tab', { name: 'Directory' }));
    const table = await screen.findByRole('table', { name: 'Directory records' });
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(3));
    expect(screen.getByRole('region', { name: 'Directory history' })).toBeTruthy();
    expect(screen.queryByRole('region', { name: 'Audit log' })).toBeNull();
    expect(calls.at(-1)).toEqual({ channel: 'audit:directory', request: { limit: AUDIT_PAGE } });
    expect(store.getState().auditTab).toBe('directory');

    const [header, traits, membership] = within(table).getAllByRole('row');
    expect(
      within(header!)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['When', 'Who', 'What', 'Field', 'Change', 'Old', 'New', 'Reason', 'Push']);
    const t = cellTexts(traits!);
    expect(t.slice(1)).toEqual([
      'alice',
      'user dr_grey',
      'traits',
      'update',
      '["clinician"]',
      '["clinician","admin"]',
      'promotion',
      '',
    ]);
    const m = cellTexts(membership!);
    expect(m.slice(1)).toEqual([
      'alice',
      'membership dr_grey',
      'group cardiology',
      'create',
      '—',
      '0',
      '',
      'push-7',
    ]);
    // Directory rows are read-only: no revert buttons.
    expect(within(table).queryByRole('button')).toBeNull();

    // The filter form's values reach the channel.
    fireEvent.change(screen.getByRole('textbox', { name: 'Id' }), {
      target: { value: 'mercy_hospital' },
    });
    fireEvent.change(screen.getByRole('combobox', { name: 'Kind' }), {
      target: { value: 'tenant' },
    });
    fireEvent.change(screen.getByRole('textbox', { name: 'Changed by' }), {
      target: { value: 'bob' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Apply filter' }));
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(2));
    expect(calls.at(-1)).toEqual({
      channel: 'audit:directory',
      request: { ref: 'mercy_hospital', kind: 'tenant', changedBy: 'bob', limit: AUDIT_PAGE },
    });
    const tenant = cellTexts(within(table).getAllByRole('row')[1]!);
    expect(tenant[2]).toBe('tenant mercy_hospital');
    expect(tenant[3]).toBe('(row)');
    // Long values are shortened like the configuration table's.
    expect(tenant[6]).toBe(`${LONG_ROW.slice(0, 60)}…`);

    // Back on the Configuration tab the existing table is shown again.
    fireEvent.click(screen.getByRole('tab', { name: 'Configuration' }));
    expect(screen.getByRole('table', { name: 'Audit records' })).toBeTruthy();
    store.getState().dispose();
  });

  it('shows a refusal (a draft keeps no directory history) as a message, not a table', async () => {
    let message = DRAFT_MESSAGE;
    const { api } = fakeTransport((channel) =>
      channel === 'audit:list'
        ? { ok: true, data: [] }
        : { ok: false, error: { code: 'invalid', message } },
    );
    const store = renderAudit(api);
    fireEvent.click(screen.getByRole('tab', { name: 'Directory' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(DRAFT_MESSAGE);
    expect(alert.className).toMatch(/Info/);
    expect(screen.queryByRole('table', { name: 'Directory records' })).toBeNull();
    expect(screen.queryByText('No directory records match.')).toBeNull();
    expect(store.getState().directoryAuditStatus).toBe('error');

    // Any other failure is shown as an error.
    message = 'The Strata bridge is not reachable; is it still running?';
    fireEvent.click(screen.getByRole('button', { name: 'Apply filter' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe(message));
    expect(screen.getByRole('alert').className).toMatch(/Error/);
    store.getState().dispose();
  });

  it('says so when no directory record matches', async () => {
    const { api } = fakeTransport(() => ({ ok: true, data: [] }));
    const store = renderAudit(api);
    fireEvent.click(screen.getByRole('tab', { name: 'Directory' }));
    expect(await screen.findByText('No directory records match.')).toBeTruthy();
    store.getState().dispose();
  });
});
