/**
 * The .env features of the console, mounted once by the app: the window-wide drop target, the
 * import wizard, export and the legacy-file dialog, and a small toolbar that opens them.
 */
import Button from '@mui/material/Button';
import ButtonGroup from '@mui/material/ButtonGroup';
import Paper from '@mui/material/Paper';
import { useMemo, useRef, type ReactNode } from 'react';
import type { StrataClient } from '../../../src-main/contract/client.js';
import { connect } from '../../api/transport.js';
import { useStrata } from '../../store/store.js';
import { workspaceKey } from '../connections/connections-slice.js';
import { DropTarget } from './drop-target.js';
import { EnvImportProvider, useEnvImport } from './env-import-context.js';
import { createEnvImportStore } from './env-import-store.js';
import { ExportDialog } from './export-dialog.js';
import { ImportWizard } from './import-wizard.js';
import { LegacyDialog } from './legacy-dialog.js';

let shared: StrataClient | null | undefined;

/**
 * The page's client. The console's store keeps its client private, so this connects the same
 * way (the Electron preload, or the bridge token the page kept for this tab).
 */
function pageClient(): StrataClient | null {
  if (shared === undefined) shared = connect();
  return shared;
}

function Toolbar(): ReactNode {
  const addFiles = useEnvImport((s) => s.addFiles);
  const setExportOpen = useEnvImport((s) => s.setExportOpen);
  const setLegacyOpen = useEnvImport((s) => s.setLegacyOpen);
  const input = useRef<HTMLInputElement>(null);
  return (
    <Paper
      elevation={3}
      component="nav"
      aria-label=".env files"
      sx={{ position: 'fixed', left: 12, bottom: 12, zIndex: (t) => t.zIndex.speedDial }}
    >
      <ButtonGroup variant="text" size="small">
        <Button onClick={() => input.current?.click()}>Import .env…</Button>
        <Button onClick={() => setExportOpen(true)}>Export .env…</Button>
        <Button onClick={() => void setLegacyOpen(true)}>Legacy .env…</Button>
      </ButtonGroup>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        aria-label="Choose .env files to import"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = '';
          void addFiles(files);
        }}
      />
    </Paper>
  );
}

function Features(): ReactNode {
  const addFiles = useEnvImport((s) => s.addFiles);
  return (
    <>
      <DropTarget onFiles={(files) => void addFiles(files)} />
      <Toolbar />
      <ImportWizard />
      <ExportDialog />
      <LegacyDialog />
    </>
  );
}

/**
 * Mounts the .env features; `client` is for tests (default: this page's connection). A preview
 * describes the workspace it was computed against, so when the console switches workspace (a
 * connection opened here or in another window) the features start over with a fresh store:
 * nothing dropped for one database can be staged into another.
 */
export function EnvImport(props: { client?: StrataClient | null }): ReactNode {
  const workspace = useStrata((s) => (s.currentWorkspace ? workspaceKey(s.currentWorkspace) : ''));
  return <EnvImportForWorkspace key={workspace} client={props.client} />;
}

function EnvImportForWorkspace(props: { client?: StrataClient | null }): ReactNode {
  const notify = useStrata((s) => s.notify);
  const loadSlot = useStrata((s) => s.loadSlot);
  const loadPreview = useStrata((s) => s.loadPreview);
  const client = props.client;
  const store = useMemo(
    () =>
      createEnvImportStore(client === undefined ? pageClient() : client, {
        onStaged: (r) =>
          notify(
            'success',
            `${r.mode === 'live' ? 'Applied' : 'Staged'} ${r.written.length} change(s) from ${r.fileName}.`,
          ),
        onLegacyChanged: () => {
          void loadSlot();
          void loadPreview();
        },
      }),
    [client, notify, loadSlot, loadPreview],
  );
  return (
    <EnvImportProvider store={store}>
      <Features />
    </EnvImportProvider>
  );
}
