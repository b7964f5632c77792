/**
 * Export: the effective configuration of a user (or a tenant) as a .env file a legacy service
 * can read. Secrets only with the "Include secrets" switch and a reason: main records a reveal
 * per exported secret (with that reason) before it returns any plaintext.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControlLabel from '@mui/material/FormControlLabel';
import Stack from '@mui/material/Stack';
import Switch from '@mui/material/Switch';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type ReactNode } from 'react';
import { useStrata } from '../../store/store.js';
import { useEnvImport } from './env-import-context.js';
import type { ExportContext } from './env-import-store.js';

/** Offers text as a file download (works in the browser and in Electron). */
export function downloadText(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The export dialog. */
export function ExportDialog(): ReactNode {
  const open = useEnvImport((s) => s.exportOpen);
  const setOpen = useEnvImport((s) => s.setExportOpen);
  const run = useEnvImport((s) => s.exportEnv);
  const status = useEnvImport((s) => s.exportStatus);
  const error = useEnvImport((s) => s.exportError);
  const exported = useEnvImport((s) => s.exported);
  const directory = useStrata((s) => s.directory);
  const target = useStrata((s) => s.previewTarget);
  const [kind, setKind] = useState<'user' | 'tenant'>('user');
  const [who, setWho] = useState('');
  const [secrets, setSecrets] = useState(false);
  const [reason, setReason] = useState('');
  const needsReason = secrets && reason.trim() === '';

  const users = directory?.users ?? [];
  const tenants = directory?.tenants ?? [];
  const fallbackUser = target?.kind === 'user' ? target.userId : (users[0]?.id ?? '');
  const fallbackTenant = target?.kind === 'adhoc' ? target.tenantId : (tenants[0]?.id ?? '');
  const id = who !== '' ? who : kind === 'user' ? fallbackUser : fallbackTenant;
  const context: ExportContext = kind === 'user' ? { userId: id } : { tenantId: id };

  return (
    <Dialog
      open={open}
      onClose={() => setOpen(false)}
      fullWidth
      maxWidth="md"
      aria-labelledby="env-export-title"
    >
      <DialogTitle id="env-export-title">Export .env</DialogTitle>
      <DialogContent dividers>
        <Stack direction="row" spacing={2} sx={{ my: 1 }}>
          <TextField
            select
            label="For"
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as 'user' | 'tenant');
              setWho('');
            }}
            slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
          >
            <option value="user">a user</option>
            <option value="tenant">a tenant</option>
          </TextField>
          <TextField
            select
            label={kind === 'user' ? 'User' : 'Tenant'}
            value={id}
            onChange={(e) => setWho(e.target.value)}
            sx={{ minWidth: 240 }}
            slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
          >
            {(kind === 'user' ? users.map((u) => u.id) : tenants.map((t) => t.id)).map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </TextField>
          <FormControlLabel
            control={<Switch checked={secrets} onChange={(e) => setSecrets(e.target.checked)} />}
            label="Include secrets"
          />
        </Stack>
        {secrets ? (
          <Box sx={{ mb: 1 }}>
            <Alert severity="warning" sx={{ mb: 1 }}>
              The file will hold secret values in plaintext. Each exported secret is recorded in the
              reveal log under your name with the reason below; keep the file private and delete it
              when done.
            </Alert>
            <TextField
              label="Reason (required)"
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              required
              fullWidth
              error={needsReason}
              helperText={needsReason ? 'Say why the secrets are exported; it is recorded.' : ' '}
              slotProps={{ htmlInput: { maxLength: 1000 } }}
            />
          </Box>
        ) : null}
        {error ? <Alert severity="error">{error}</Alert> : null}
        {exported ? (
          <Box>
            <Typography sx={{ my: 1 }} role="status" aria-label="Export summary">
              {exported.rows.length} variable(s) in {exported.fileName}
              {exported.omittedSecrets.length > 0
                ? `; ${exported.omittedSecrets.length} secret key(s) left out`
                : ''}
              {exported.secretsIncluded > 0
                ? `; ${exported.secretsIncluded} secret(s) included`
                : ''}
              .
            </Typography>
            {exported.notes.map((n) => (
              <Typography key={n} variant="body2" color="text.secondary">
                {n}
              </Typography>
            ))}
            <Box
              component="pre"
              aria-label="Exported file"
              sx={{
                p: 1,
                maxHeight: 320,
                overflow: 'auto',
                bgcolor: 'action.hover',
                borderRadius: 1,
                fontSize: 12,
              }}
            >
              {exported.secretsIncluded > 0
                ? '(contains secrets: not shown here; use Download)'
                : exported.text}
            </Box>
          </Box>
        ) : null}
      </DialogContent>
      <DialogActions>
        <Button onClick={() => setOpen(false)}>Close</Button>
        <Button
          variant="contained"
          disabled={id === '' || status === 'loading' || needsReason}
          onClick={() => {
            void run(context, secrets, secrets ? reason : null).then((r) => {
              if (r) downloadText(r.fileName, r.text);
            });
          }}
        >
          Export and download
        </Button>
      </DialogActions>
    </Dialog>
  );
}
