/**
 * Audit log: a filterable, virtualised table of config_audit (or a draft's staged log), with
 * revert; and, on a second tab, the directory changes (tenants, departments, groups, users and
 * memberships), read-only.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import LinearProgress from '@mui/material/LinearProgress';
import Stack from '@mui/material/Stack';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import {
  DIRECTORY_AUDIT_KINDS,
  type DirectoryAuditKind,
  type DirectoryAuditRecord,
} from '../../src-main/contract/contract.js';
import { LEVELS, type Level } from '../../src-main/core/types.js';
import type { AuditRecord } from '../../src-main/services/types.js';
import { describeSource } from '../lib/forms.js';
import { useStrata } from '../store/store.js';
import type { AuditTab } from '../store/types.js';
import { VirtualList } from './virtual-list.js';

const COLUMNS =
  '150px 110px 170px minmax(140px, 1fr) 80px minmax(100px, 1fr) minmax(100px, 1fr) minmax(100px, 1fr) 130px 80px';

const DIRECTORY_COLUMNS =
  '150px 110px minmax(160px, 1fr) minmax(120px, 1fr) 80px minmax(100px, 1fr) minmax(100px, 1fr) minmax(100px, 1fr) 130px';

/** A value as a table cell shows it: a dash for none, long values cut at 60 characters. */
function short(v: string | null): string {
  return v === null ? '—' : v.length > 60 ? `${v.slice(0, 60)}…` : v;
}

/** The message a draft answers on the directory channel (it keeps no directory history). */
const NO_DRAFT_HISTORY = /^A draft keeps no directory history/;

function Row({ record }: { record: AuditRecord }): ReactNode {
  const revert = useStrata((s) => s.revert);
  const revertPush = useStrata((s) => s.revertPush);
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

function DirectoryRow({ record }: { record: DirectoryAuditRecord }): ReactNode {
  const mono = { fontFamily: 'monospace', wordBreak: 'break-all' } as const;
  return (
    <Box
      role="row"
      sx={{
        display: 'grid',
        gridTemplateColumns: DIRECTORY_COLUMNS,
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
      <span role="cell" style={mono}>{`${record.kind} ${record.ref}`}</span>
      <span role="cell" style={mono}>
        {record.kind === 'membership' ? `group ${record.field}` : record.field}
      </span>
      <span role="cell">{record.changeType}</span>
      <span role="cell" style={mono}>
        {short(record.oldValue)}
      </span>
      <span role="cell" style={mono}>
        {short(record.newValue)}
      </span>
      <span role="cell">{record.reason ?? ''}</span>
      <span role="cell" style={mono}>
        {record.pushId ?? ''}
      </span>
    </Box>
  );
}

/** The Configuration tab: config_audit (or the draft's staged log), filterable, with revert. */
function ConfigAudit(): ReactNode {
  const filter = useStrata((s) => s.auditFilter);
  const setFilter = useStrata((s) => s.setAuditFilter);
  const load = useStrata((s) => s.loadAudit);
  const records = useStrata((s) => s.auditRecords);
  const status = useStrata((s) => s.auditStatus);
  const error = useStrata((s) => s.auditError);
  return (
    <Box
      component="section"
      id="audit-panel-config"
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
  );
}

/** The Directory tab: who changed which tenant, department, group, user or membership. */
function DirectoryAudit(): ReactNode {
  const filter = useStrata((s) => s.directoryAuditFilter);
  const setFilter = useStrata((s) => s.setDirectoryAuditFilter);
  const load = useStrata((s) => s.loadDirectoryAudit);
  const records = useStrata((s) => s.directoryAuditRecords);
  const status = useStrata((s) => s.directoryAuditStatus);
  const error = useStrata((s) => s.directoryAuditError);
  return (
    <Box
      component="section"
      id="audit-panel-directory"
      aria-label="Directory history"
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
          label="Id"
          value={filter.ref ?? ''}
          onChange={(e) => setFilter({ ...filter, ref: e.target.value || undefined })}
          helperText="Tenant, group or user id, or tenant/department"
        />
        <TextField
          select
          label="Kind"
          value={filter.kind ?? ''}
          onChange={(e) =>
            setFilter({
              ...filter,
              kind: (e.target.value || undefined) as DirectoryAuditKind | undefined,
            })
          }
          slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
          sx={{ minWidth: 140 }}
        >
          <option value="">(any)</option>
          {DIRECTORY_AUDIT_KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </TextField>
        <TextField
          label="Changed by"
          value={filter.changedBy ?? ''}
          onChange={(e) => setFilter({ ...filter, changedBy: e.target.value || undefined })}
        />
        <Button type="submit" variant="contained">
          Apply filter
        </Button>
      </Stack>
      {status === 'loading' ? <LinearProgress aria-label="Loading directory history" /> : null}
      {error ? (
        <Alert severity={NO_DRAFT_HISTORY.test(error) ? 'info' : 'error'}>{error}</Alert>
      ) : (
        <Box role="table" aria-label="Directory records" sx={{ minWidth: 1100 }}>
          <Box
            role="row"
            sx={{
              display: 'grid',
              gridTemplateColumns: DIRECTORY_COLUMNS,
              gap: 1,
              fontWeight: 700,
              borderBottom: 2,
              borderColor: 'divider',
              fontSize: 13,
            }}
          >
            {['When', 'Who', 'What', 'Field', 'Change', 'Old', 'New', 'Reason', 'Push'].map((h) => (
              <span role="columnheader" key={h}>
                {h}
              </span>
            ))}
          </Box>
          <Box role="rowgroup">
            <VirtualList
              items={records ?? []}
              estimateSize={36}
              height={480}
              getKey={(r) => `${r.seq}:${r.kind}:${r.ref}:${r.field}`}
              renderItem={(r) => <DirectoryRow record={r} />}
            />
          </Box>
        </Box>
      )}
      {records && records.length === 0 ? (
        <Typography color="text.secondary">No directory records match.</Typography>
      ) : null}
    </Box>
  );
}

/** The Audit log dialog. */
export function AuditLog(): ReactNode {
  const open = useStrata((s) => s.auditOpen);
  const setOpen = useStrata((s) => s.setAuditOpen);
  const tab = useStrata((s) => s.auditTab);
  const setTab = useStrata((s) => s.setAuditTab);
  return (
    <Dialog
      open={open}
      onClose={() => setOpen(false)}
      maxWidth="xl"
      fullWidth
      aria-labelledby="audit-title"
    >
      <DialogTitle id="audit-title">Audit log</DialogTitle>
      <Tabs
        value={tab}
        onChange={(_e, v: AuditTab) => setTab(v)}
        aria-label="Audit log views"
        sx={{ px: 3 }}
      >
        <Tab value="config" label="Configuration" aria-controls="audit-panel-config" />
        <Tab value="directory" label="Directory" aria-controls="audit-panel-directory" />
      </Tabs>
      <DialogContent>{tab === 'config' ? <ConfigAudit /> : <DirectoryAudit />}</DialogContent>
      <DialogActions>
        <Button onClick={() => setOpen(false)}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
