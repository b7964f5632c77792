/**
 * Point in time: the previewed user's (or ad-hoc context's) effective configuration as of a past
 * moment, diffed against now. Needs PostgreSQL history; a draft answers a clear message.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControlLabel from '@mui/material/FormControlLabel';
import LinearProgress from '@mui/material/LinearProgress';
import Stack from '@mui/material/Stack';
import Switch from '@mui/material/Switch';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type ReactNode } from 'react';
import type { PointInTimeValue } from '../../../src-main/contract/impact-channels.js';
import { describeSource } from '../../lib/forms.js';
import { useStrata } from '../../store/store.js';

function shown(v: PointInTimeValue | null): string {
  if (!v || v.value === null) return '(not set)';
  return `${JSON.stringify(v.value)} (${describeSource(v.level as 'global', v.scope)})`;
}

/** Converts a datetime-local value (local time) to an ISO instant. */
export function localToIso(local: string): string | null {
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

/** The "As of" dialog. */
export function AsOfPanel(props: { open: boolean; onClose: () => void }): ReactNode {
  const target = useStrata((s) => s.previewTarget);
  const view = useStrata((s) => s.asOfView);
  const status = useStrata((s) => s.asOfStatus);
  const error = useStrata((s) => s.asOfError);
  const setAsOf = useStrata((s) => s.setAsOf);
  const [local, setLocal] = useState('');
  const [changedOnly, setChangedOnly] = useState(true);
  const who =
    target?.kind === 'user'
      ? `user ${target.userId}`
      : target
        ? `tenant ${target.tenantId}${target.department ? `/${target.department}` : ''}`
        : 'nobody (choose a user in the Effective preview)';
  const items = (view?.items ?? []).filter((i) => !changedOnly || i.changed);
  return (
    <Dialog open={props.open} onClose={props.onClose} maxWidth="md" fullWidth>
      <DialogTitle>Effective configuration as of a past moment</DialogTitle>
      <DialogContent>
        <Box
          component="section"
          aria-label="Point in time"
          sx={{ display: 'flex', flexDirection: 'column', gap: 1, pt: 1 }}
        >
          <Typography variant="body2">For {who}.</Typography>
          <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
            <TextField
              label="As of"
              type="datetime-local"
              value={local}
              onChange={(e) => setLocal(e.target.value)}
              slotProps={{ inputLabel: { shrink: true }, htmlInput: { step: 1 } }}
            />
            <Button
              variant="contained"
              disabled={!localToIso(local)}
              onClick={() => void setAsOf(localToIso(local))}
            >
              Show
            </Button>
            <FormControlLabel
              control={
                <Switch checked={changedOnly} onChange={(e) => setChangedOnly(e.target.checked)} />
              }
              label="Only keys that differ from now"
            />
          </Stack>
          {status === 'loading' ? <LinearProgress aria-label="Loading history" /> : null}
          {error ? <Alert severity="error">{error}</Alert> : null}
          {view && status === 'ready' ? (
            <>
              <Alert severity="info">
                {view.changed} key(s) differ between {new Date(view.at).toLocaleString()} and now.
              </Alert>
              <Box component="ul" sx={{ m: 0, pl: 2 }}>
                {items.map((i) => (
                  <li key={i.key} aria-label={i.key}>
                    <Typography variant="body2" sx={{ fontFamily: 'monospace' }}>
                      {i.key}: then {shown(i.then)} -&gt; now {shown(i.now)}
                    </Typography>
                  </li>
                ))}
              </Box>
            </>
          ) : null}
        </Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
