/** Audit log: a filterable, virtualised table of config_audit (or a draft's staged log), with revert. */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import LinearProgress from '@mui/material/LinearProgress';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import { LEVELS, type Level } from '../../src-main/core/types.js';
import type { AuditRecord } from '../../src-main/services/types.js';
import { describeSource } from '../lib/forms.js';
import { useStrata } from '../store/store.js';
import { VirtualList } from './virtual-list.js';

const COLUMNS =
  '150px 110px 170px minmax(140px, 1fr) 80px minmax(100px, 1fr) minmax(100px, 1fr) minmax(100px, 1fr) 130px 80px';

function Row({ record }: { record: AuditRecord }): ReactNode {
  const revert = useStrata((s) => s.revert);
  const revertPush = useStrata((s) => s.revertPush);
  const short = (v: string | null): string =>
    v === null ? '—' : v.length > 60 ? `${v.slice(0, 60)}…` : v;
  return (
    <Box
      role="row"
      sx={{
        display: 'grid',
        gridTemplateColumns: COLUMNS,
        gap: 1,
        py: 0.5,
        borderBottom: 1,
        borderColor: 'divider',
        alignItems: 'center',
        fontSize: 13,
      }}
    >
      <span role="cell">{new Date(record.changedAt).toLocaleString()}</span>
      <span role="cell">{record.changedBy}</span>
      <span role="cell">{describeSource(record.level, record.scope)}</span>
      <span role="cell" style={{ fontFamily: 'monospace', wordBreak: 'break-all' }}>
        {record.key}
      </span>
      <span role="cell">{record.changeType}</span>
      <span role="cell" style={{ fontFamily: 'monospace', wordBreak: 'break-all' }}>
        {short(record.oldValue)}
      </span>
      <span role="cell" style={{ fontFamily: 'monospace', wordBreak: 'break-all' }}>
        {short(record.newValue)}
      </span>
      <span role="cell">{record.reason ?? ''}</span>
      <span role="cell" style={{ fontFamily: 'monospace', wordBreak: 'break-all' }}>
        {record.pushId ? (
          <>
            {record.pushId}
            <Button
              size="small"
              onClick={() => void revertPush(record.pushId!)}
              aria-label={`Revert push ${record.pushId}`}
            >
              Revert push
            </Button>
          </>
        ) : (
          (record.status ?? '')
        )}
      </span>
      <span role="cell">
        <Button
          size="small"
          onClick={() => void revert(record)}
          aria-label={`Revert #${record.seq}`}
        >
          Revert
        </Button>
      </span>
    </Box>
  );
}

/** The Audit log dialog. */
export function AuditLog(): ReactNode {
  const open = useStrata((s) => s.auditOpen);
  const setOpen = useStrata((s) => s.setAuditOpen);
  const filter = useStrata((s) => s.auditFilter);
  const setFilter = useStrata((s) => s.setAuditFilter);
  const load = useStrata((s) => s.loadAudit);
  const records = useStrata((s) => s.auditRecords);
  const status = useStrata((s) => s.auditStatus);
  const error = useStrata((s) => s.auditError);
  return (
    <Dialog
      open={open}
      onClose={() => setOpen(false)}
      maxWidth="xl"
      fullWidth
      aria-labelledby="audit-title"
    >
      <DialogTitle id="audit-title">Audit log</DialogTitle>
      <DialogContent>
        <Box
          component="section"
          aria-label="Audit log"
          sx={{ display: 'flex', flexDirection: 'column', gap: 1 }}
        >
          <Stack
            component="form"
            direction="row"
            spacing={1}
            sx={{ flexWrap: 'wrap', rowGap: 1, pt: 1 }}
            onSubmit={(e) => {
              e.preventDefault();
              void load();
            }}
          >
            <TextField
              label="Key"
              value={filter.key ?? ''}
              onChange={(e) => setFilter({ ...filter, key: e.target.value || undefined })}
            />
            <TextField
              select
              label="Level"
              value={filter.level ?? ''}
              onChange={(e) =>
                setFilter({ ...filter, level: (e.target.value || undefined) as Level | undefined })
              }
              slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
              sx={{ minWidth: 140 }}
            >
              <option value="">(any)</option>
              {LEVELS.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </TextField>
            <TextField
              label="Scope"
              value={filter.scope ?? ''}
              onChange={(e) => setFilter({ ...filter, scope: e.target.value || undefined })}
            />
            <TextField
              label="Changed by"
              value={filter.changedBy ?? ''}
              onChange={(e) => setFilter({ ...filter, changedBy: e.target.value || undefined })}
            />
            <Button type="submit" variant="contained">
              Apply filter
            </Button>
          </Stack>
          {status === 'loading' ? <LinearProgress aria-label="Loading audit log" /> : null}
          {error ? <Alert severity="error">{error}</Alert> : null}
          <Box role="table" aria-label="Audit records" sx={{ minWidth: 1100 }}>
            <Box
              role="row"
              sx={{
                display: 'grid',
                gridTemplateColumns: COLUMNS,
                gap: 1,
                fontWeight: 700,
                borderBottom: 2,
                borderColor: 'divider',
                fontSize: 13,
              }}
            >
              {['When', 'Who', 'Where', 'Key', 'Change', 'Old', 'New', 'Reason', 'Push', ''].map(
                (h, i) => (
                  <span role="columnheader" key={i}>
                    {h}
                  </span>
                ),
              )}
            </Box>
            <Box role="rowgroup">
              <VirtualList
                items={records ?? []}
                estimateSize={36}
                height={480}
                getKey={(r) => r.id}
                renderItem={(r) => <Row record={r} />}
              />
            </Box>
          </Box>
          {records && records.length === 0 ? (
            <Typography color="text.secondary">No audit records match.</Typography>
          ) : null}
        </Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={() => setOpen(false)}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
