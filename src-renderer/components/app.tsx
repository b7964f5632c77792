/** The console: top bar, the three landmarks, and the dialogs. */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import CircularProgress from '@mui/material/CircularProgress';
import CssBaseline from '@mui/material/CssBaseline';
import Snackbar from '@mui/material/Snackbar';
import { ThemeProvider } from '@mui/material/styles';
import Typography from '@mui/material/Typography';
import { useEffect, useMemo, type ReactNode } from 'react';
import { makeTheme } from '../lib/theme.js';
import { useStrata } from '../store/store.js';
import { AuditLog } from './audit-log.js';
import { CommandPalette } from './command-palette.js';
import { EffectivePreview } from './effective-preview.js';
import { LevelEditor } from './level-editor.js';
import { Navigator } from './navigator.js';
import { PlanView } from './plan-view.js';
import { StagedDrawer } from './staged-drawer.js';
import { TopBar } from './top-bar.js';
import { EnvImport } from '../features/env-import/env-import.js';
import { GuardrailsPanel } from '../features/guardrails/guardrails-panel.js';
import { ImpactPanel } from '../features/impact/impact-panel.js';
import { ConnectionsDialog } from '../features/connections/connections-dialog.js';

function Toasts(): ReactNode {
  const toast = useStrata((s) => s.toast);
  const dismiss = useStrata((s) => s.dismissToast);
  return (
    <Snackbar
      open={!!toast}
      autoHideDuration={toast?.severity === 'error' ? null : 4000}
      onClose={(_e, reason) => (reason === 'clickaway' ? undefined : dismiss())}
      anchorOrigin={{ vertical: 'bottom', horizontal: 'center' }}
    >
      {toast ? (
        <Alert severity={toast.severity} onClose={dismiss} variant="filled" role="alert">
          {toast.message}
        </Alert>
      ) : undefined}
    </Snackbar>
  );
}

function Body(): ReactNode {
  const status = useStrata((s) => s.status);
  const loadError = useStrata((s) => s.loadError);
  if (status === 'error') {
    return (
      <Box sx={{ p: 4 }}>
        <Alert severity="error">{loadError}</Alert>
      </Box>
    );
  }
  if (status !== 'ready') {
    return (
      <Box sx={{ p: 4, display: 'flex', gap: 2, alignItems: 'center' }}>
        <CircularProgress size={20} />
        <Typography>Opening the workspace…</Typography>
      </Box>
    );
  }
  return (
    <Box
      component="main"
      sx={{
        flex: 1,
        minHeight: 0,
        display: 'grid',
        gridTemplateColumns: '280px minmax(420px, 1fr) 420px',
        gap: 0,
        '& > *': { borderRight: 1, borderColor: 'divider' },
      }}
    >
      <Navigator />
      <LevelEditor />
      <EffectivePreview />
    </Box>
  );
}

/** The root component. */
export function App(): ReactNode {
  const themeMode = useStrata((s) => s.themeMode);
  const init = useStrata((s) => s.init);
  const setPaletteOpen = useStrata((s) => s.setPaletteOpen);
  const theme = useMemo(() => makeTheme(themeMode), [themeMode]);

  useEffect(() => {
    void init();
  }, [init]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setPaletteOpen(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [setPaletteOpen]);

  return (
    <ThemeProvider theme={theme}>
      <CssBaseline />
      <Box sx={{ height: '100vh', display: 'flex', flexDirection: 'column' }}>
        <TopBar />
        <Body />
      </Box>
      <StagedDrawer />
      <PlanView />
      <AuditLog />
      <CommandPalette />
      <EnvImport />
      <ImpactPanel />
      <GuardrailsPanel />
      <ConnectionsDialog />
      <Toasts />
    </ThemeProvider>
  );
}
