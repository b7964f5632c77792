/** Top bar: title, the persistent environment banner, and the global actions. */
import AppBar from '@mui/material/AppBar';
import Badge from '@mui/material/Badge';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Toolbar from '@mui/material/Toolbar';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { useState, type ReactNode } from 'react';
import { ENVIRONMENT_LABEL, environmentTone, type EnvironmentTone } from '../lib/forms.js';
import { useStrata } from '../store/store.js';
import { TemplatesLauncher } from '../features/templates/templates-launcher.js';
import { AsOfPanel } from '../features/history/as-of-panel.js';

const BANNER: Record<EnvironmentTone, { bg: string; fg: string }> = {
  production: { bg: '#b71c1c', fg: '#ffffff' },
  staging: { bg: '#e65100', fg: '#ffffff' },
  development: { bg: '#2e7d32', fg: '#ffffff' },
  unlabelled: { bg: '#546e7a', fg: '#ffffff' },
};

/** The environment banner; production is red and says so in words, not only colour. */
export function EnvironmentBanner(): ReactNode {
  const info = useStrata((s) => s.info);
  if (!info) return null;
  // For a workspace opened from a connection profile, main reports the more cautious of the
  // profile's label and the database's own.
  const environment = info.environment;
  const tone = environmentTone(environment);
  const style = BANNER[tone];
  const kind = info.kind === 'postgres' ? 'Live database' : 'Draft workspace';
  const text = ENVIRONMENT_LABEL[tone];
  const label = tone === 'production' ? `${text}: changes here reach live systems` : text;
  const name = info.connection?.name ?? null;
  return (
    <Box
      role="status"
      aria-label="Environment"
      data-environment={tone}
      sx={{
        bgcolor: style.bg,
        color: style.fg,
        px: 2,
        py: 0.5,
        display: 'flex',
        gap: 2,
        alignItems: 'center',
        fontWeight: tone === 'production' ? 700 : 500,
        letterSpacing: tone === 'production' ? 1 : 0,
      }}
    >
      <Typography component="span" sx={{ fontWeight: 'inherit', letterSpacing: 'inherit' }}>
        {label}
        {environment && tone !== 'production' ? ` (${environment})` : ''}
      </Typography>
      <Typography component="span" variant="body2">
        {name ? `${name} · ` : ''}
        {kind}: {info.target}
        {info.source ? ` — pulled from ${info.source.target}` : ''}
      </Typography>
      <Box sx={{ flex: 1 }} />
      <Typography component="span" variant="body2">
        Signed in as {info.operator}
      </Typography>
    </Box>
  );
}

/** The application bar. */
export function TopBar(): ReactNode {
  const count = useStrata((s) => s.stagedCount());
  const themeMode = useStrata((s) => s.themeMode);
  const toggleTheme = useStrata((s) => s.toggleTheme);
  const setDrawerOpen = useStrata((s) => s.setDrawerOpen);
  const setAuditOpen = useStrata((s) => s.setAuditOpen);
  const setPaletteOpen = useStrata((s) => s.setPaletteOpen);
  const openGuardrails = useStrata((s) => s.openGuardrails);
  const openImpact = useStrata((s) => s.openImpact);
  const canImpact = useStrata((s) => s.info?.kind === 'draft' && s.serverStaged.length > 0);
  const live = useStrata((s) => s.liveStatus);
  const liveCount = useStrata((s) => s.liveChanges.length);
  const [asOfOpen, setAsOfOpen] = useState(false);
  const setConnectionsOpen = useStrata((s) => s.setConnectionsOpen);
  return (
    <AppBar position="static" elevation={0} color="default">
      <Toolbar variant="dense" sx={{ gap: 1 }}>
        <Typography variant="h6" component="h1" sx={{ fontWeight: 700, mr: 2 }}>
          Strata
        </Typography>
        <Tooltip title="Jump to a key, tenant or user (Ctrl+K)">
          <Button variant="outlined" color="inherit" onClick={() => setPaletteOpen(true)}>
            Search… Ctrl+K
          </Button>
        </Tooltip>
        <Button color="inherit" onClick={() => setConnectionsOpen(true)}>
          Connections
        </Button>
        <Box sx={{ flex: 1 }} />
        <TemplatesLauncher />
        {live || liveCount > 0 ? (
          <Tooltip title={live?.message ?? 'Changes made by others arrive here as they happen'}>
            <Typography variant="caption" role="status" aria-label="Live updates">
              {live && !live.connected ? 'Offline' : 'Live'}
              {liveCount > 0 ? ` · ${liveCount} change(s) arrived` : ''}
            </Typography>
          </Tooltip>
        ) : null}
        <Button color="inherit" onClick={() => void openGuardrails(true)}>
          Guardrails
        </Button>
        <Button color="inherit" disabled={!canImpact} onClick={() => void openImpact(true)}>
          Impact
        </Button>
        <Button color="inherit" onClick={() => setAsOfOpen(true)}>
          As of…
        </Button>
        <Button color="inherit" onClick={() => setAuditOpen(true)}>
          Audit log
        </Button>
        <Button
          color="inherit"
          onClick={() => setDrawerOpen(true)}
          aria-label={`Staged changes (${count})`}
        >
          <Badge badgeContent={count} color="warning" showZero={false} sx={{ pr: count ? 1.5 : 0 }}>
            Staged changes
          </Badge>
        </Button>
        <Button
          color="inherit"
          onClick={toggleTheme}
          aria-label={themeMode === 'light' ? 'Dark theme' : 'Light theme'}
        >
          {themeMode === 'light' ? 'Dark' : 'Light'}
        </Button>
      </Toolbar>
      <EnvironmentBanner />
      <AsOfPanel open={asOfOpen} onClose={() => setAsOfOpen(false)} />
    </AppBar>
  );
}
