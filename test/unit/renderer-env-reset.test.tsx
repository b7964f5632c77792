// @vitest-environment jsdom
/**
 * The .env features start over when the console switches workspace: a file chosen while one
 * database was open is no longer offered for import once another is open.
 */
import {
  act,
  cleanup,
  configure,
  fireEvent,
  render,
  screen,
  waitFor,
} from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { CurrentWorkspace } from '../../src-main/contract/connection-channels.js';
import { EnvImport } from '../../src-renderer/features/env-import/env-import.js';
import { createStrataStore, StoreProvider } from '../../src-renderer/store/store.js';

configure({ defaultHidden: true, asyncUtilTimeout: 5000 });
afterEach(() => cleanup());

function workspace(profileId: string, target: string): CurrentWorkspace {
  return {
    profileId,
    name: profileId,
    kind: 'draft',
    environment: 'development',
    target,
    source: null,
  };
}

describe('.env features across a workspace switch', () => {
  it('drop the chosen files when another workspace opens', async () => {
    const store = createStrataStore(null);
    act(() => store.setState({ currentWorkspace: workspace('a', '/drafts/a.sqlite') }));
    render(
      <StoreProvider store={store}>
        <EnvImport client={null} />
      </StoreProvider>,
    );
    const file = new File(['FAX_BACKEND=phaxio\n'], 'mercy.env', { type: 'text/plain' });
    fireEvent.change(screen.getByLabelText('Choose .env files to import'), {
      target: { files: [file] },
    });
    await waitFor(() => expect(screen.getByRole('list', { name: 'Files' })).toBeTruthy());
    expect(screen.getByLabelText('mercy.env')).toBeTruthy();

    act(() => store.setState({ currentWorkspace: workspace('b', '/drafts/b.sqlite') }));
    await waitFor(() => expect(screen.queryByLabelText('mercy.env')).toBeNull());
    expect(screen.queryByRole('list', { name: 'Files' })).toBeNull();
  });
});
