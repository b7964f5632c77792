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
import type { SxProps, Theme } from '@mui/material/styles';
import type { ReactNode } from 'react';
import {
  DIRECTORY_AUDIT_KINDS,
  type DirectoryAuditRecord,
} from '../../src-main/contract/contract.js';
import { LEVELS } from '../../src-main/core/types.js';
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

/** The grid every row of a table shares; headers add weight and a thicker rule. */
function rowSx(columns: string, header = false): SxProps<Theme> {
  return {
    display: 'grid',
    gridTemplateColumns: columns,
    gap: 1,
    borderBottom: header ? 2 : 1,
    borderColor: 'divider',
    fontSize: 13,
    ...(header ? { fontWeight: 700 } : { py: 0.5, alignItems: 'center' }),
  };
}

const MONO = { fontFamily: 'monospace', wordBreak: 'break-all' } as const;

function Row({ record }: { record: AuditRecord }): ReactNode {
  const revert = useStrata((s) => s.revert);
  const revertPush = useStrata((s) => s.revertPush);
  return (
    <Box role="row" sx={rowSx(COLUMNS)}>
      <span role="cell">{new Date(record.changedAt).toLocaleString()}</span>
      <span role="cell">{record.changedBy}</span>
      <span role="cell">{describeSource(record.level, record.scope)}</span>
      <span role="cell" style={MONO}>
        {record.key}
      </span>
      <span role="cell">{record.changeType}</span>
      <span role="cell" style={MONO}>
        {short(record.oldValue)}
      </span>
      <span role="cell" style={MONO}>
        {short(record.newValue)}
      </span>
      <span role="cell">{record.reason ?? ''}</span>
      <span role="cell" style={MONO}>
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
  return (
    <Box role="row" sx={rowSx(DIRECTORY_COLUMNS)}>
      <span role="cell">{new Date(record.changedAt).toLocaleString()}</span>
      <span role="cell">{record.changedBy}</span>
      <span role="cell" style={MONO}>{`${record.kind} ${record.ref}`}</span>
      <span role="cell" style={MONO}>
        {record.kind === 'membership' ? `group ${record.field}` : record.field}
      </span>
      <span role="cell">{record.changeType}</span>
      <span role="cell" style={MONO}>
        {short(record.oldValue)}
      </span>
      <span role="cell" style={MONO}>
        {short(record.newValue)}
      </span>
      <span role="cell">{record.reason ?? ''}</span>
      <span role="cell" style={MONO}>
        {record.pushId ?? ''}
      </span>
    </Box>
  );
}

/** A filter's native select: one of `options`, or (any) for undefined. */
function AnySelect<T extends string>(props: {
  label: string;
  value: T | undefined;
  options: readonly T[];
  onChange: (value: T | undefined) => void;
}): ReactNode {
  return (
    <TextField
      select
      label={props.label}
      value={props.value ?? ''}
      onChange={(e) => props.onChange((e.target.value || undefined) as T | undefined)}
      slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
      sx={{ minWidth: 140 }}
    >
      <option value="">(any)</option>
      {props.options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </TextField>
  );
}

/** A filter's text field: what is typed, or undefined (any) when it is empty. */
function AnyText(props: {
  label: string;
  value: string | undefined;
  onChange: (value: string | undefined) => void;
  helperText?: string;
}): ReactNode {
  return (
    <TextField
      label={props.label}
      value={props.value ?? ''}
      onChange={(e) => props.onChange(e.target.value || undefined)}
      helperText={props.helperText}
    />
  );
}

interface AuditPanelProps<T> {
  id: string;
  /** The section's accessible name. */
  label: string;
  /** The filter fields (the Apply button is added). */
  filters: ReactNode;
  onApply: () => void;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
  /** An error that is an answer rather than a fault (a draft keeps no directory history). */
  errorIsInfo?: boolean;
  records: T[] | null;
  tableLabel: string;
  columns: string;
  headers: readonly string[];
  getKey: (record: T) => string;
  renderRow: (record: T) => ReactNode;
  emptyText: string;
}

/** One tab of the audit log: a filter form, progress, an error, and a virtualised table. */
function AuditPanel<T>(props: AuditPanelProps<T>): ReactNode {
  const { records, error } = props;
  return (
    <Box
      component="section"
      id={props.id}
      aria-label={props.label}
      sx={{ display: 'flex', flexDirection: 'column', gap: 1 }}
    >
      <Stack
        component="form"
        direction="row"
        spacing={1}
        sx={{ flexWrap: 'wrap', rowGap: 1, pt: 1 }}
        onSubmit={(e) => {
          e.preventDefault();
          props.onApply();
        }}
      >
        {props.filters}
        <Button type="submit" variant="contained">
          Apply filter
        </Button>
      </Stack>
      {props.status === 'loading' ? (
        <LinearProgress aria-label={`Loading ${props.label.toLowerCase()}`} />
      ) : null}
      {error ? <Alert severity={props.errorIsInfo ? 'info' : 'error'}>{error}</Alert> : null}
      {error && records === null ? null : (
        <Box role="table" aria-label={props.tableLabel} sx={{ minWidth: 1100 }}>
          <Box role="row" sx={rowSx(props.columns, true)}>
            {props.headers.map((h, i) => (
              <span role="columnheader" key={i}>
                {h}
              </span>
            ))}
          </Box>
          <Box role="rowgroup">
            <VirtualList
              items={records ?? []}
              estimateSize={36}
              height={480}
              getKey={props.getKey}
              renderItem={props.renderRow}
            />
          </Box>
        </Box>
      )}
      {records && records.length === 0 ? (
        <Typography color="text.secondary">{props.emptyText}</Typography>
      ) : null}
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
    <AuditPanel
      id="audit-panel-config"
      label="Audit log"
      onApply={() => void load()}
      status={status}
      error={error}
      records={records}
      tableLabel="Audit records"
      columns={COLUMNS}
      headers={['When', 'Who', 'Where', 'Key', 'Change', 'Old', 'New', 'Reason', 'Push', '']}
      getKey={(r) => r.id}
      renderRow={(r) => <Row record={r} />}
      emptyText="No audit records match."
      filters={
        <>
          <AnyText
            label="Key"
            value={filter.key}
            onChange={(key) => setFilter({ ...filter, key })}
          />
          <AnySelect
            label="Level"
            value={filter.level}
            options={LEVELS}
            onChange={(level) => setFilter({ ...filter, level })}
          />
          <AnyText
            label="Scope"
            value={filter.scope}
            onChange={(scope) => setFilter({ ...filter, scope })}
          />
          <AnyText
            label="Changed by"
            value={filter.changedBy}
            onChange={(changedBy) => setFilter({ ...filter, changedBy })}
          />
        </>
      }
    />
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
    <AuditPanel
      id="audit-panel-directory"
      label="Directory history"
      onApply={() => void load()}
      status={status}
      error={error}
      errorIsInfo={error !== null && NO_DRAFT_HISTORY.test(error)}
      records={records}
      tableLabel="Directory records"
      columns={DIRECTORY_COLUMNS}
      headers={['When', 'Who', 'What', 'Field', 'Change', 'Old', 'New', 'Reason', 'Push']}
      getKey={(r) => `${r.seq}:${r.kind}:${r.ref}:${r.field}`}
      renderRow={(r) => <DirectoryRow record={r} />}
      emptyText="No directory records match."
      filters={
        <>
          <AnyText
            label="Id"
            value={filter.ref}
            onChange={(ref) => setFilter({ ...filter, ref })}
            helperText="Tenant, group or user id, or tenant/department"
          />
          <AnySelect
            label="Kind"
            value={filter.kind}
            options={DIRECTORY_AUDIT_KINDS}
            onChange={(kind) => setFilter({ ...filter, kind })}
          />
          <AnyText
            label="Changed by"
            value={filter.changedBy}
            onChange={(changedBy) => setFilter({ ...filter, changedBy })}
          />
        </>
      }
    />
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
