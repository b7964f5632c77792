// @vitest-environment jsdom
/**
 * The console as a user meets it (jsdom, real bridge, real SQLite demo workspace): landmarks and
 * controls by accessible name, metadata-driven inputs, inline validation, the Overridden chip,
 * the chain, the staged drawer, the plan's conflict buttons, the palette and the theme.
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
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeForService, type Bridge } from '../../src-main/bridge/server.js';
import { createClient, createHttpTransport } from '../../src-main/contract/client.js';
import type { ConfigService } from '../../src-main/services/types.js';
import { App } from '../../src-renderer/components/app.js';
import {
  createStrataStore,
  StoreProvider,
  type StrataStore,
} from '../../src-renderer/store/store.js';
import { openSqliteDemo, tempDir } from '../e2e/workspace-fixtures.js';

// Role queries skip jsdom's costly visibility checks; the names asserted here are unique anyway.
configure({ defaultHidden: true, asyncUtilTimeout: 5000 });

const temp = tempDir();
let service: ConfigService;
let bridge: Bridge;

beforeAll(async () => {
  ({ service } = await openSqliteDemo(temp.dir));
  bridge = await startBridgeForService(service);
});

afterAll(async () => {
  await bridge.close();
  await service.close();
  temp.cleanup();
});

const stores: StrataStore[] = [];

afterEach(() => {
  cleanup();
  for (const store of stores.splice(0)) store.getState().dispose();
});

async function renderConsole(): Promise<StrataStore> {
  const client = createClient(createHttpTransport({ baseUrl: bridge.origin, token: bridge.token }));
  const store = createStrataStore(client);
  stores.push(store);
  render(
    <StoreProvider store={store}>
      <App />
    </StoreProvider>,
  );
  await waitFor(() => expect(store.getState().status).not.toMatch(/idle|loading/), {
    timeout: 10_000,
  });
  expect(store.getState().loadError).toBeNull();
  await waitFor(() => expect(store.getState().slot).not.toBeNull());
  return store;
}

function keyGroup(name: string): HTMLElement {
  return screen.getByRole('group', { name });
}

describe('console', () => {
  it('shows the landmarks, the environment banner and the global slot', async () => {
    await renderConsole();
    expect(screen.getByRole('navigation', { name: 'Navigator' })).toBeTruthy();
    expect(screen.getByRole('region', { name: 'Level editor' })).toBeTruthy();
    expect(screen.getByRole('region', { name: 'Effective preview' })).toBeTruthy();
    expect(screen.getByRole('status', { name: 'Environment' }).textContent).toMatch(
      /Draft workspace/,
    );
    expect(screen.getByRole('heading', { name: 'Global', level: 2 })).toBeTruthy();
    // Inputs are labelled with display names from configuration_metadata.
    const fax = keyGroup('Fax provider');
    expect(within(fax).getByRole('combobox', { name: 'Fax provider' })).toBeTruthy();
    for (const name of ['Save', 'Stage', 'Reset', 'Remove override']) {
      expect(within(fax).getByRole('button', { name })).toBeTruthy();
    }
  });

  it('marks production unmistakably', async () => {
    const store = await renderConsole();
    act(() => {
      store.setState({
        info: { ...store.getState().info!, kind: 'postgres', environment: 'production' },
      });
    });
    const banner = screen.getByRole('status', { name: 'Environment' });
    expect(banner.textContent).toMatch(/^PRODUCTION/);
    expect(banner.getAttribute('data-environment')).toBe('production');
  });

  it('in production, Save waits for a reason and uses the one typed after the row was drawn', async () => {
    const store = await renderConsole();
    const uploads = keyGroup('Maximum upload size (MB)');
    const slotValue = (): string | undefined =>
      store.getState().slot?.items.find((i) => i.key === 'uploads.max_size_mb')?.entry?.value;
    const before = slotValue();
    fireEvent.change(within(uploads).getByRole('textbox', { name: 'Maximum upload size (MB)' }), {
      target: { value: '42' },
    });
    const save = within(uploads).getByRole('button', { name: 'Save' }) as HTMLButtonElement;
    await waitFor(() => expect(save.disabled).toBe(false));
    // The workspace is a draft; the console is told it is production (as the banner test does).
    const production = (): void =>
      act(() => {
        store.setState({
          info: { ...store.getState().info!, kind: 'postgres', environment: 'production' },
        });
      });
    production();
    fireEvent.click(save);
    await waitFor(() =>
      expect(store.getState().toast?.message).toMatch(/Production changes need a reason/),
    );
    expect(slotValue()).toBe(before);

    // The row does not re-render for the reason; the click reads the reason as it is now.
    fireEvent.change(screen.getByRole('textbox', { name: 'Reason for changes' }), {
      target: { value: 'Ticket 4711: larger scans' },
    });
    production();
    fireEvent.click(save);
    await waitFor(() => expect(slotValue()).toBe('42'));
  });

  it('validates inline and enables Save only for a valid change', async () => {
    await renderConsole();
    const uploads = keyGroup('Maximum upload size (MB)');
    const input = within(uploads).getByRole('textbox', { name: 'Maximum upload size (MB)' });
    const save = within(uploads).getByRole('button', { name: 'Save' }) as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    fireEvent.change(input, { target: { value: 'lots' } });
    await waitFor(() => expect(within(uploads).getByText(/rejects value "lots"/)).toBeTruthy());
    expect(save.disabled).toBe(true);
    fireEvent.change(input, { target: { value: '20' } });
    await waitFor(() => expect(save.disabled).toBe(false));
    fireEvent.click(within(uploads).getByRole('button', { name: 'Reset' }));
    await waitFor(() => expect(save.disabled).toBe(true));
  });

  it('saves a tenant value and shows Overridden and the chain at the department below', async () => {
    const store = await renderConsole();
    const nav = screen.getByRole('navigation', { name: 'Navigator' });
    fireEvent.click(within(nav).getByRole('button', { name: /^Mercy Hospital/ }));
    await screen.findByRole('heading', { name: 'Tenant Mercy Hospital (mercy_hospital)' });
    await waitFor(() => expect(store.getState().slot?.scope).toBe('mercy_hospital'));
    const theme = keyGroup('Theme');
    fireEvent.change(within(theme).getByRole('combobox', { name: 'Theme' }), {
      target: { value: 'business' },
    });
    fireEvent.click(within(theme).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(store.getState().slot?.items.find((i) => i.key === 'ui.theme')?.entry?.value).toBe(
        'business',
      ),
    );

    const marketing = within(nav)
      .getAllByRole('button', { name: /^Marketing/ })
      .find((b) => b.textContent?.includes('department'))!;
    fireEvent.click(marketing);
    await screen.findByRole('heading', { name: 'Department Marketing (mercy_hospital/marketing)' });
    await waitFor(() => expect(store.getState().slot?.scope).toBe('mercy_hospital/marketing'));
    const deptTheme = keyGroup('Theme');
    expect(within(deptTheme).getByText('Overridden')).toBeTruthy();
    fireEvent.click(within(deptTheme).getByRole('button', { name: 'Show chain' }));
    const chain = await within(deptTheme).findByRole('list', {
      name: 'Resolution chain of ui.theme',
    });
    expect(chain.textContent).toContain('Tenant mercy_hospital');
    expect(chain.textContent).toContain('"business"');
    // A key the department only inherits carries no chip.
    expect(within(keyGroup('Fax provider')).queryByText('Overridden')).toBeNull();
  });

  it('previews a chosen user with each value and its source', async () => {
    const store = await renderConsole();
    await act(() => store.getState().setPreviewTarget({ kind: 'user', userId: 'user123' }));
    const preview = screen.getByRole('region', { name: 'Effective preview' });
    const row = await within(preview).findByRole('listitem', { name: 'fax_backend' });
    expect(row.textContent).toContain('sip');
    expect(row.textContent).toContain('Group emergency_doctors_group');
  });

  it('opens the staged changes drawer and the plan with conflict buttons', async () => {
    const store = await renderConsole();
    const header = document.querySelector('header')!;
    fireEvent.click(within(header).getByRole('button', { name: /^Staged changes/ }));
    const drawer = await screen.findByRole('region', { name: 'Staged changes' });
    expect(within(drawer).getByRole('button', { name: 'Plan' })).toBeTruthy();
    act(() => {
      store.setState({
        planOpen: true,
        planStatus: 'ready',
        plan: {
          id: 'p1',
          target: 'postgres://db.example/strata',
          environment: 'staging',
          createdAt: '2025-01-01T00:00:00Z',
          items: [
            {
              id: 'i1',
              level: 'tenant',
              scope: 'mercy_hospital',
              key: 'ui.theme',
              action: 'set',
              base: 'medical',
              theirs: 'business',
              mine: 'neutral',
              valueType: 'string',
              secret: false,
              status: 'conflict',
              resolution: null,
              reason: 'calmer',
            },
          ],
          summary: { create: 0, update: 0, delete: 0, conflicts: 1, unresolved: 1 },
        },
      });
    });
    const plan = await screen.findByRole('region', { name: 'Plan' });
    expect(within(plan).getByRole('button', { name: 'Keep mine' })).toBeTruthy();
    expect(within(plan).getByRole('button', { name: 'Take theirs' })).toBeTruthy();
    expect(within(plan).getByRole('textbox', { name: 'Type staging to confirm' })).toBeTruthy();
    const dialog = plan.closest<HTMLElement>('[role="dialog"]')!;
    const push = within(dialog).getByRole('button', { name: 'Push' }) as HTMLButtonElement;
    expect(push.disabled).toBe(true);
  });

  it('opens the command palette with Ctrl+K and jumps to a user', async () => {
    const store = await renderConsole();
    fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    const search = await screen.findByRole('combobox', { name: 'Jump to a key, tenant or user' });
    fireEvent.change(search, { target: { value: 'Meredith' } });
    const option = await screen.findByRole('option', { name: /Dr. Meredith Grey/ });
    fireEvent.click(option);
    await waitFor(() =>
      expect(store.getState().selected).toEqual({ level: 'user', scope: 'dr_grey' }),
    );
  });

  it('toggles the theme', async () => {
    const store = await renderConsole();
    const before = store.getState().themeMode;
    const header = document.querySelector('header')!;
    fireEvent.click(
      within(header).getByRole('button', {
        name: before === 'light' ? 'Dark theme' : 'Light theme',
      }),
    );
    expect(store.getState().themeMode).not.toBe(before);
  });
});
