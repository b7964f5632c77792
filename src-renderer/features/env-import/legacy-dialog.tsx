/**
 * Hybrid mode: attach a legacy .env file as the lowest level (env_legacy). Keys the database
 * does not set resolve from it, and this dialog shows which keys are still only in the file.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import LinearProgress from '@mui/material/LinearProgress';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import { useRef, type ReactNode } from 'react';
import { useEnvImport } from './env-import-context.js';

/** The legacy-file dialog. */
export function LegacyDialog(): ReactNode {
  const open = useEnvImport((s) => s.legacyOpen);
  const setOpen = useEnvImport((s) => s.setLegacyOpen);
  const legacy = useEnvImport((s) => s.legacy);
  const status = useEnvImport((s) => s.legacyStatus);
  const error = useEnvImport((s) => s.legacyError);
  const fileErrors = useEnvImport((s) => s.legacyFileErrors);
  const attach = useEnvImport((s) => s.attachLegacy);
  const detach = useEnvImport((s) => s.detachLegacy);
  const input = useRef<HTMLInputElement>(null);

  return (
    <Dialog
      open={open}
      onClose={() => void setOpen(false)}
      fullWidth
      maxWidth="md"
      aria-labelledby="env-legacy-title"
    >
      <DialogTitle id="env-legacy-title">Legacy .env file</DialogTitle>
      <DialogContent dividers>
        <Typography sx={{ mb: 1 }}>
          An attached file sits below global: keys the database does not set resolve from it (shown
          as env_legacy in every chain). Import keys to move them into the database.
        </Typography>
        {status === 'loading' ? <LinearProgress aria-label="Loading legacy file" /> : null}
        {error ? <Alert severity="error">{error}</Alert> : null}
        {fileErrors.length > 0 ? (
          <Alert severity="error">
            <Box component="ul" aria-label="Problems in the legacy file" sx={{ m: 0, pl: 2 }}>
              {fileErrors.map((e, i) => (
                <li key={i}>{e.message}</li>
              ))}
            </Box>
          </Alert>
        ) : null}
        {legacy?.attached ? (
          <Box>
            <Typography role="status" aria-label="Legacy summary" sx={{ my: 1 }}>
              {legacy.fileName} is attached: {legacy.onlyInFile} of {legacy.keys.length} key(s) are
              still only in the file
              {legacy.persisted ? '' : ' (kept for this session only)'}.
            </Typography>
            {legacy.warnings.map((w, i) => (
              <Typography key={i} variant="body2" color="warning.main">
                {w.message}
              </Typography>
            ))}
            <Table size="small" aria-label="Legacy keys">
              <TableHead>
                <TableRow>
                  <TableCell>Line</TableCell>
                  <TableCell>.env name</TableCell>
                  <TableCell>Key</TableCell>
                  <TableCell>Value</TableCell>
                  <TableCell>Where</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {legacy.keys.map((k) => (
                  <TableRow key={k.envKey}>
                    <TableCell>{k.line}</TableCell>
                    <TableCell sx={{ fontFamily: 'monospace' }}>{k.envKey}</TableCell>
                    <TableCell sx={{ fontFamily: 'monospace' }}>{k.key}</TableCell>
                    <TableCell>{k.value}</TableCell>
                    <TableCell>
                      {k.inDatabase ? (
                        <Chip size="small" label="In database" />
                      ) : (
                        <Chip size="small" color="warning" label="Only in file" />
                      )}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </Box>
        ) : status === 'ready' ? (
          <Typography color="text.secondary">No legacy file is attached.</Typography>
        ) : null}
        <input
          ref={input}
          type="file"
          hidden
          aria-label="Choose a legacy .env file"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) void attach(file);
          }}
        />
      </DialogContent>
      <DialogActions>
        <Button onClick={() => void setOpen(false)}>Close</Button>
        {legacy?.attached ? (
          <Button color="warning" onClick={() => void detach()}>
            Detach
          </Button>
        ) : null}
        <Button variant="contained" onClick={() => input.current?.click()}>
          {legacy?.attached ? 'Replace file…' : 'Attach a file…'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
