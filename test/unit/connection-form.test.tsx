// @vitest-environment jsdom
/**
 * The Connections screen's pure parts and its rendering over a real bridge with a workspace
 * host: inline validation, the password-in-URL hint, the request a form saves, when opening
 * asks for confirmation, and the dialog listing a saved profile with its environment and the
 * session-only password note.
 */
import {
  cleanup,
  configure,
  fireEvent,
  render,
  screen,
  waitFor,
  within,
} from '@testing-library/react';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeForService, type ServiceBridge } from '../../src-main/bridge/server.js';
import { createClient, createHttpTransport } from '../../src-main/contract/client.js';
import type { ProfileView } from '../../src-main/contract/connection-channels.js';
import { MemoryVault } from '../../src-main/services/connection-profiles.js';
import {
  initialValues,
  toDraft,
  urlHasPassword,
  validateForm,
} from '../../src-renderer/features/connections/connection-form.js';
import {
  ConnectionsDialog,
  openWarning,
} from '../../src-renderer/features/connections/connections-dialog.js';
import { createStrataStore, StoreProvider } from '../../src-renderer/store/store.js';
import { openSqliteDemo, tempDir } from '../e2e/workspace-fixtures.js';

configure({ defaultHidden: true, asyncUtilTimeout: 5000 });
afterEach(() => cleanup());

const profile: ProfileView = {
  id: 'p1',
  name: 'Mercy production',
  kind: 'postgres',
  environment: 'production',
  target: 'postgres://db.example/strata',
  user: 'admin',
  operator: null,
  lastOpened: null,
  displayTarget: 'postgres://admin@db.example/strata',
  hasPassword: true,
};

describe('form helpers', () => {
  it('validates inline before saving', () => {
    const empty = initialValues(null);
    expect(validateForm(empty)).toEqual({
      name: 'Give the connection a name.',
      target: 'Give the database URL, e.g. postgres://db.example/strata.',
    });
    expect(validateForm({ ...empty, name: 'x', target: 'mysql://db/x' }).target).toBe(
      'The URL must start with postgres:// or postgresql://.',
    );
    expect(
      validateForm({ ...empty, name: 'x', kind: 'draft', target: 'postgres://db/x' }).target,
    ).toMatch(/choose PostgreSQL/);
    expect(validateForm({ ...empty, name: 'x', kind: 'draft', target: '/d.sqlite' })).toEqual({});
  });

  it('spots a password typed into the URL', () => {
    expect(urlHasPassword('postgres://u:pw@db/x')).toBe(true);
    expect(urlHasPassword('postgres://db/x?password=pw')).toBe(true);
    expect(urlHasPassword('postgres://u@db/x')).toBe(false);
  });

  it('saves an empty password field as "keep the stored one"', () => {
    const values = { ...initialValues(profile), name: ' Renamed ' };
    expect(toDraft(values, 'p1')).toEqual({
      id: 'p1',
      name: 'Renamed',
      kind: 'postgres',
      environment: 'production',
      target: 'postgres://db.example/strata',
      user: 'admin',
      operator: null,
    });
    expect(toDraft({ ...values, password: 'new' }, null)).toMatchObject({ password: 'new' });
  });

  it('asks before opening production or dropping queued changes', () => {
    expect(openWarning(profile, 0)).toMatch(/^Mercy production is PRODUCTION/);
    expect(openWarning({ ...profile, environment: 'staging' }, 0)).toBeNull();
    expect(openWarning({ ...profile, environment: 'staging' }, 2)).toMatch(
      /2 change\(s\) queued .* discarded/,
    );
  });
});

describe('the Connections dialog', () => {
  const temp = tempDir('strata-connection-ui-');
  let bridge: ServiceBridge;

  beforeAll(async () => {
    const start = await openSqliteDemo(temp.dir);
    const other = await openSqliteDemo(temp.dir);
    await other.service.close();
    bridge = await startBridgeForService(start.service, {
      live: false,
      name: 'Local demo',
      connections: { dataDir: join(temp.dir, 'data'), vault: new MemoryVault(), env: start.env },
    });
    await bridge.host.handlers['connections:save']({
      name: 'Second demo',
      kind: 'draft',
      environment: 'staging',
      target: other.db,
      operator: 'superadmin',
    });
  });

  afterAll(async () => {
    await bridge?.close();
    temp.cleanup();
  });

  it('lists profiles with their environment, and says passwords last this session only', async () => {
    const client = createClient(
      createHttpTransport({ baseUrl: bridge.origin, token: bridge.token }),
    );
    const store = createStrataStore(client);
    render(
      <StoreProvider store={store}>
        <ConnectionsDialog />
      </StoreProvider>,
    );
    store.getState().setConnectionsOpen(true);
    const row = await screen.findByRole('listitem', { name: 'Second demo' });
    expect(row.textContent).toContain('Staging');
    expect(row.textContent).toContain('never opened');
    expect(screen.getByRole('alert', { name: 'Passwords' }).textContent).toMatch(
      /^Password kept for this session only/,
    );
    expect(store.getState().currentWorkspace).toMatchObject({
      name: 'Local demo',
      profileId: null,
    });
    fireEvent.click(within(row).getByRole('button', { name: 'Test Second demo' }));
    await waitFor(() =>
      expect(
        within(row).getByRole('status', { name: 'Test result for Second demo' }).textContent,
      ).toMatch(/^OK: Connected to .* as superadmin/),
    );
    store.getState().dispose();
  });
});
