/**
 * Template upgrades: for every tenant (or other scope) that uses an older version of a template,
 * the exact diff that brings it to the current version, and a button to stage it. When the
 * upgrade needs a value the scope does not hold (a new secret, say), the fields for it are shown.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type ReactNode } from 'react';
import type { TemplateUpgradeView } from '../../../src-main/contract/template-channels.js';
import { useStrata } from '../../store/store.js';
import { DiffTable, summaryText } from './diff-table.js';

function upgradeKey(u: TemplateUpgradeView): string {
  return `${u.template}:${u.level}:${u.scope}`;
}

function where(u: TemplateUpgradeView): string {
  return u.level === 'global' ? 'the global level' : `${u.level} ${u.scope}`;
}

/** One scope's upgrade. */
function UpgradeCard(props: { upgrade: TemplateUpgradeView }): ReactNode {
  const u = props.upgrade;
  const live = useStrata((s) => s.info?.kind === 'postgres');
  const applyUpgrade = useStrata((s) => s.applyUpgrade);
  const [vars, setVars] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const needed = [...new Set(u.errors.map((e) => e.variable).filter((v) => v !== ''))];
  const title = `${u.template} v${u.fromVersion} → v${u.toVersion} at ${where(u)}`;

  const stage = async (): Promise<void> => {
    setBusy(true);
    const filled = Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== ''));
    await applyUpgrade({ template: u.template, level: u.level, scope: u.scope, vars: filled });
    setBusy(false);
  };

  return (
    <Paper variant="outlined" sx={{ p: 2 }} role="group" aria-label={title}>
      <Typography variant="subtitle1" component="h3" sx={{ fontWeight: 600 }}>
        {title}
      </Typography>
      {!u.exact ? (
        <Typography variant="body2" color="text.secondary">
          The definition of v{u.fromVersion} is not kept, so this shows what v{u.toVersion} sets
          that differs from the scope.
        </Typography>
      ) : null}
      {u.ok ? (
        <>
          <Typography sx={{ my: 1 }}>{summaryText(u.summary)}.</Typography>
          <DiffTable items={u.items} label={`Upgrade of ${where(u)}`} />
        </>
      ) : (
        <Stack spacing={1} sx={{ my: 1 }}>
          <Alert severity="info">{u.errors.map((e) => e.message).join(' ')}</Alert>
          {needed.map((n) => (
            <TextField
              key={n}
              size="small"
              label={n}
              value={vars[n] ?? ''}
              onChange={(e) => setVars((old) => ({ ...old, [n]: e.target.value }))}
              slotProps={{ inputLabel: { shrink: true } }}
            />
          ))}
        </Stack>
      )}
      <Box sx={{ mt: 1 }}>
        <Button
          variant="contained"
          disabled={busy || (!u.ok && needed.length === 0)}
          onClick={() => void stage()}
          aria-label={`${live ? 'Apply' : 'Stage'} upgrade of ${where(u)}`}
        >
          {live ? 'Apply upgrade' : 'Stage upgrade'}
        </Button>
      </Box>
    </Paper>
  );
}

/** Every pending template upgrade. */
export function UpgradesView(): ReactNode {
  const list = useStrata((s) => s.upgradeList);
  const status = useStrata((s) => s.upgradeStatus);
  const loadUpgrades = useStrata((s) => s.loadUpgrades);
  return (
    <Box role="region" aria-label="Template upgrades">
      <Stack direction="row" spacing={2} sx={{ mb: 2, alignItems: 'center' }}>
        <Typography>
          Scopes that use an older version of a template, with the changes that bring them up to
          date.
        </Typography>
        <Button onClick={() => void loadUpgrades()} disabled={status === 'loading'}>
          Refresh
        </Button>
        {status === 'loading' ? <CircularProgress size={18} aria-label="Loading upgrades" /> : null}
      </Stack>
      {status === 'ready' && list && list.length === 0 ? (
        <Typography color="text.secondary">
          Every scope is at the current version of its templates.
        </Typography>
      ) : null}
      <Stack spacing={2}>
        {(list ?? []).map((u) => (
          <UpgradeCard key={upgradeKey(u)} upgrade={u} />
        ))}
      </Stack>
    </Box>
  );
}
