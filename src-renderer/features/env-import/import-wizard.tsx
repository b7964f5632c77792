/**
 * The import wizard: file -> mapping -> placement -> preview -> stage. Every step reads the
 * preview main computed for the current choices, so what the admin ticks in the preview is
 * exactly what stage writes.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Chip from '@mui/material/Chip';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControlLabel from '@mui/material/FormControlLabel';
import LinearProgress from '@mui/material/LinearProgress';
import Radio from '@mui/material/Radio';
import Stack from '@mui/material/Stack';
import Step from '@mui/material/Step';
import StepLabel from '@mui/material/StepLabel';
import Stepper from '@mui/material/Stepper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useRef, type ReactNode } from 'react';
import type { EnvPreviewItem } from '../../../src-main/contract/env-channels.js';
import type { EnvIssue } from '../../../src-main/core/env/index.js';
import { LEVELS, type Directory, type Level } from '../../../src-main/core/types.js';
import { useStrata } from '../../store/store.js';
import { useEnvImport } from './env-import-context.js';
import { STEPS, type PlacementMode } from './env-import-store.js';

const ACTION_LABEL: Record<EnvPreviewItem['action'], string> = {
  create: 'new',
  update: 'changes',
  unchanged: 'unchanged',
  redundant: 'redundant',
  invalid: 'cannot import',
};

const ACTION_COLOR: Record<
  EnvPreviewItem['action'],
  'success' | 'warning' | 'default' | 'info' | 'error'
> = {
  create: 'success',
  update: 'warning',
  unchanged: 'default',
  redundant: 'info',
  invalid: 'error',
};

/** Scope ids a level offers, from the directory. */
export function scopesFor(level: Level, dir: Directory | null): string[] {
  if (!dir) return [];
  switch (level) {
    case 'global':
      return [''];
    case 'tenant':
      return dir.tenants.map((t) => t.id);
    case 'department':
      return dir.departments.map((d) => `${d.tenantId}/${d.id}`);
    case 'group':
      return dir.groups.map((g) => g.id);
    case 'user':
      return dir.users.map((u) => u.id);
  }
}

function at(level: string, scope: string): string {
  return level === 'global' ? 'global' : `${level} ${scope}`;
}

function shown(value: string | null): string {
  if (value === null) return '—';
  if (value === '') return '""';
  return value.length > 60 ? `${value.slice(0, 60)}…` : value;
}

function IssueList(props: {
  label: string;
  issues: readonly EnvIssue[];
  severity: 'error' | 'warning';
}): ReactNode {
  if (props.issues.length === 0) return null;
  return (
    <Alert severity={props.severity} sx={{ my: 1 }}>
      <Box component="ul" aria-label={props.label} sx={{ m: 0, pl: 2 }}>
        {props.issues.map((e, i) => (
          <li key={`${e.line}-${i}`}>{e.message}</li>
        ))}
      </Box>
    </Alert>
  );
}

function PreviewState(): ReactNode {
  const status = useEnvImport((s) => s.previewStatus);
  const error = useEnvImport((s) => s.previewError);
  if (status === 'loading') return <LinearProgress aria-label="Loading preview" sx={{ my: 1 }} />;
  if (status === 'error' && error) return <Alert severity="error">{error}</Alert>;
  return null;
}

function FileStep(): ReactNode {
  const files = useEnvImport((s) => s.files);
  const activeId = useEnvImport((s) => s.activeId);
  const choose = useEnvImport((s) => s.chooseFile);
  const addFiles = useEnvImport((s) => s.addFiles);
  const input = useRef<HTMLInputElement>(null);
  return (
    <Box>
      <Typography sx={{ mb: 1 }}>
        Drop .env files anywhere on the window, or choose them. Each file is read here first;
        refused files list their problems by line and are never sent.
      </Typography>
      <Box component="ul" aria-label="Files" sx={{ p: 0, m: 0 }}>
        {files.map((f) => (
          <Box
            component="li"
            key={f.id}
            aria-label={f.name}
            sx={{
              listStyle: 'none',
              border: 1,
              borderColor: 'divider',
              borderRadius: 1,
              p: 1,
              mb: 1,
            }}
          >
            <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
              <Radio
                checked={f.id === activeId}
                disabled={f.content === null || f.staged}
                onChange={() => choose(f.id)}
                slotProps={{ input: { 'aria-label': `Import ${f.name}` } }}
              />
              <Typography sx={{ fontFamily: 'monospace' }}>{f.name}</Typography>
              <Typography color="text.secondary">{f.size} bytes</Typography>
              {f.staged ? (
                <Chip size="small" color="success" label="Imported" />
              ) : f.content === null ? (
                <Chip size="small" color="error" label="Refused" />
              ) : (
                <Chip size="small" color="primary" label={`${f.count} variable(s)`} />
              )}
            </Stack>
            <IssueList label={`Problems in ${f.name}`} issues={f.errors} severity="error" />
            <IssueList label={`Warnings for ${f.name}`} issues={f.warnings} severity="warning" />
          </Box>
        ))}
      </Box>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        aria-label="Choose .env files"
        onChange={(e) => {
          const chosen = Array.from(e.target.files ?? []);
          e.target.value = '';
          void addFiles(chosen);
        }}
      />
      <Button variant="outlined" onClick={() => input.current?.click()}>
        Choose files…
      </Button>
    </Box>
  );
}

function MappingStep(): ReactNode {
  const preview = useEnvImport((s) => s.preview);
  const mapping = useEnvImport((s) => s.mapping);
  const setKey = useEnvImport((s) => s.setMappingKey);
  const save = useEnvImport((s) => s.saveMapping);
  const setSave = useEnvImport((s) => s.setSaveMapping);
  const reload = useEnvImport((s) => s.loadPreview);
  return (
    <Box>
      <Typography sx={{ mb: 1 }}>
        Each .env name becomes a configuration key: the migration table, then the saved mapping,
        else the name in lower case. Edit any key here.
      </Typography>
      <PreviewState />
      <Table size="small" aria-label="Mapping">
        <TableHead>
          <TableRow>
            <TableCell>Line</TableCell>
            <TableCell>.env name</TableCell>
            <TableCell>Configuration key</TableCell>
            <TableCell>Mapped by</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {(preview?.items ?? []).map((i) => (
            <TableRow key={i.envKey}>
              <TableCell>{i.line}</TableCell>
              <TableCell sx={{ fontFamily: 'monospace' }}>{i.envKey}</TableCell>
              <TableCell>
                <TextField
                  value={mapping[i.envKey] ?? i.key}
                  onChange={(e) => setKey(i.envKey, e.target.value)}
                  onBlur={() => void reload()}
                  slotProps={{ htmlInput: { 'aria-label': `Key for ${i.envKey}` } }}
                  fullWidth
                />
              </TableCell>
              <TableCell>{i.keySource}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <FormControlLabel
        control={<Checkbox checked={save} onChange={(e) => setSave(e.target.checked)} />}
        label="Save this mapping for the workspace"
      />
    </Box>
  );
}

function ScopeSelect(props: {
  label: string;
  level: Level;
  value: string;
  allowNone?: boolean;
  onChange: (scope: string) => void;
}): ReactNode {
  const directory = useStrata((s) => s.directory);
  const scopes = scopesFor(props.level, directory);
  return (
    <TextField
      select
      label={props.label}
      value={props.value}
      onChange={(e) => props.onChange(e.target.value)}
      sx={{ minWidth: 220 }}
      slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
    >
      {props.allowNone || !scopes.includes(props.value) ? (
        <option value="">{props.allowNone ? '(none)' : '(choose)'}</option>
      ) : null}
      {scopes.map((s) => (
        <option key={s} value={s}>
          {s}
        </option>
      ))}
    </TextField>
  );
}

function PlacementStep(): ReactNode {
  const mode = useEnvImport((s) => s.placementMode);
  const scope = useEnvImport((s) => s.scope);
  const setPlacement = useEnvImport((s) => s.setPlacement);
  const preview = useEnvImport((s) => s.preview);
  const overrides = useEnvImport((s) => s.overrides);
  const setOverride = useEnvImport((s) => s.setOverride);
  const reload = useEnvImport((s) => s.loadPreview);
  const change = (m: PlacementMode, sc: string): void => {
    setPlacement(m, sc);
    void reload();
  };
  return (
    <Box>
      <Stack direction="row" spacing={2} sx={{ my: 1 }}>
        <TextField
          select
          label="Place keys"
          value={mode}
          onChange={(e) => change(e.target.value as PlacementMode, '')}
          slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
        >
          <option value="auto">
            By key (uploads, security, platform, features: global; providers, compliance: tenant)
          </option>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              All at {l}
            </option>
          ))}
        </TextField>
        {mode === 'auto' ? (
          <ScopeSelect
            label="Tenant for tenant-level keys"
            level="tenant"
            value={scope}
            allowNone
            onChange={(s) => change('auto', s)}
          />
        ) : mode !== 'global' ? (
          <ScopeSelect
            label={`Which ${mode}`}
            level={mode}
            value={scope}
            onChange={(s) => change(mode, s)}
          />
        ) : null}
      </Stack>
      <PreviewState />
      <Table size="small" aria-label="Placement">
        <TableHead>
          <TableRow>
            <TableCell>.env name</TableCell>
            <TableCell>Key</TableCell>
            <TableCell>Placed at</TableCell>
            <TableCell>Place this key at</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {(preview?.items ?? []).map((i) => {
            const o = overrides[i.envKey];
            return (
              <TableRow key={i.envKey}>
                <TableCell sx={{ fontFamily: 'monospace' }}>{i.envKey}</TableCell>
                <TableCell sx={{ fontFamily: 'monospace' }}>{i.key}</TableCell>
                <TableCell>
                  {at(i.level, i.scope)}
                  {i.note ? (
                    <Typography variant="caption" component="div" color="text.secondary">
                      {i.note}
                    </Typography>
                  ) : null}
                </TableCell>
                <TableCell>
                  <Stack direction="row" spacing={1}>
                    <TextField
                      select
                      value={o?.level ?? ''}
                      onChange={(e) => {
                        const level = e.target.value as Level | '';
                        // No scope yet: tenant takes the chosen tenant, other levels ask.
                        setOverride(i.envKey, level === '' ? null : { level });
                        void reload();
                      }}
                      slotProps={{
                        select: { native: true },
                        htmlInput: { 'aria-label': `Level for ${i.envKey}` },
                      }}
                    >
                      <option value="">(as above)</option>
                      {LEVELS.map((l) => (
                        <option key={l} value={l}>
                          {l}
                        </option>
                      ))}
                    </TextField>
                    {o?.level && o.level !== 'global' ? (
                      <ScopeSelect
                        label="Scope"
                        level={o.level}
                        value={o.scope ?? ''}
                        onChange={(s) => {
                          setOverride(i.envKey, { ...o, scope: s });
                          void reload();
                        }}
                      />
                    ) : null}
                  </Stack>
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
    </Box>
  );
}

function PreviewStep(): ReactNode {
  const preview = useEnvImport((s) => s.preview);
  const selected = useEnvImport((s) => s.selected);
  const toggle = useEnvImport((s) => s.toggleRow);
  const reason = useEnvImport((s) => s.reason);
  const setReason = useEnvImport((s) => s.setReason);
  const stageError = useEnvImport((s) => s.stageError);
  if (!preview) return <PreviewState />;
  const s = preview.summary;
  return (
    <Box>
      <PreviewState />
      <Typography sx={{ mb: 1 }} role="status" aria-label="Import summary">
        {s.create} new, {s.update} changed, {s.unchanged} unchanged, {s.redundant} redundant (same
        as inherited; skipped unless ticked), {s.invalid} cannot be imported.
      </Typography>
      <IssueList label="Rows that cannot be imported" issues={preview.errors} severity="error" />
      <IssueList label="Warnings" issues={preview.warnings} severity="warning" />
      <Table size="small" aria-label="Import preview">
        <TableHead>
          <TableRow>
            <TableCell padding="checkbox">Import</TableCell>
            <TableCell>Line</TableCell>
            <TableCell>.env name</TableCell>
            <TableCell>Key</TableCell>
            <TableCell>At</TableCell>
            <TableCell>Current</TableCell>
            <TableCell>Inherited</TableCell>
            <TableCell>New</TableCell>
            <TableCell>Action</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {preview.items.map((i) => (
            <TableRow key={i.envKey} aria-label={`Row ${i.envKey}`}>
              <TableCell padding="checkbox">
                <Checkbox
                  checked={selected[i.envKey] === true}
                  disabled={i.action === 'invalid' || i.action === 'unchanged'}
                  onChange={(e) => toggle(i.envKey, e.target.checked)}
                  slotProps={{ input: { 'aria-label': `Import ${i.envKey}` } }}
                />
              </TableCell>
              <TableCell>{i.line}</TableCell>
              <TableCell sx={{ fontFamily: 'monospace' }}>{i.envKey}</TableCell>
              <TableCell sx={{ fontFamily: 'monospace' }}>{i.key}</TableCell>
              <TableCell>{at(i.level, i.scope)}</TableCell>
              <TableCell>{shown(i.current)}</TableCell>
              <TableCell>
                {shown(i.inherited)}
                {i.inheritedLevel ? (
                  <Typography variant="caption" component="div" color="text.secondary">
                    from {at(i.inheritedLevel, i.inheritedScope)}
                  </Typography>
                ) : null}
              </TableCell>
              <TableCell>{i.action === 'invalid' ? '' : shown(i.value)}</TableCell>
              <TableCell>
                <Chip size="small" color={ACTION_COLOR[i.action]} label={ACTION_LABEL[i.action]} />
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <TextField
        label="Reason (recorded after the file name)"
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        fullWidth
        sx={{ mt: 2 }}
        slotProps={{ inputLabel: { shrink: true }, htmlInput: { maxLength: 1000 } }}
      />
      {stageError ? (
        <Alert severity="error" sx={{ mt: 1 }}>
          {stageError}
        </Alert>
      ) : null}
    </Box>
  );
}

function DoneStep(): ReactNode {
  const result = useEnvImport((s) => s.result);
  if (!result) return null;
  const verb = result.mode === 'live' ? 'Applied' : 'Staged';
  return (
    <Box>
      <Alert severity="success" role="status">
        {verb} {result.written.length} change(s) from {result.fileName}
        {result.mode === 'live' ? ' in one transaction' : ''}. Reason recorded: “{result.reason}”.
      </Alert>
      <Box component="ul" aria-label="Written keys">
        {result.written.map((w) => (
          <li key={w.envKey}>
            <code>{w.key}</code> at {at(w.level, w.scope)} = {shown(w.value)}
          </li>
        ))}
      </Box>
    </Box>
  );
}

/** The import wizard dialog. */
export function ImportWizard(): ReactNode {
  const open = useEnvImport((s) => s.wizardOpen);
  const step = useEnvImport((s) => s.step);
  const setStep = useEnvImport((s) => s.setStep);
  const close = useEnvImport((s) => s.closeWizard);
  const stage = useEnvImport((s) => s.stage);
  const nextFile = useEnvImport((s) => s.nextFile);
  const ready = useEnvImport((s) => {
    const f = s.files.find((x) => x.id === s.activeId);
    return !!f && f.content !== null && !f.staged;
  });
  const count = useEnvImport((s) =>
    s.preview ? s.preview.items.filter((i) => s.selected[i.envKey]).length : 0,
  );
  const busy = useEnvImport((s) => s.previewStatus === 'loading' || s.stageStatus === 'staging');
  const more = useEnvImport((s) =>
    s.files.some((f) => !f.staged && f.content !== null && f.id !== s.activeId),
  );
  const live = useStrata((s) => s.info?.kind === 'postgres');
  const last = STEPS.length - 1;

  return (
    <Dialog open={open} onClose={close} fullWidth maxWidth="lg" aria-labelledby="env-import-title">
      <DialogTitle id="env-import-title">Import .env</DialogTitle>
      <DialogContent dividers>
        <Stepper activeStep={step} sx={{ mb: 2 }}>
          {STEPS.map((label) => (
            <Step key={label}>
              <StepLabel>{label}</StepLabel>
            </Step>
          ))}
        </Stepper>
        {step === 0 ? <FileStep /> : null}
        {step === 1 ? <MappingStep /> : null}
        {step === 2 ? <PlacementStep /> : null}
        {step === 3 ? <PreviewStep /> : null}
        {step === last ? <DoneStep /> : null}
      </DialogContent>
      <DialogActions>
        <Button onClick={close}>{step === last ? 'Close' : 'Cancel'}</Button>
        {step > 0 && step < last ? (
          <Button onClick={() => void setStep(step - 1)} disabled={busy}>
            Back
          </Button>
        ) : null}
        {step < 3 ? (
          <Button
            variant="contained"
            onClick={() => void setStep(step + 1)}
            disabled={!ready || busy}
          >
            Next
          </Button>
        ) : null}
        {step === 3 ? (
          <Button variant="contained" onClick={() => void stage()} disabled={count === 0 || busy}>
            {live ? 'Apply' : 'Stage'} {count} change{count === 1 ? '' : 's'}
          </Button>
        ) : null}
        {step === last && more ? (
          <Button variant="contained" onClick={nextFile}>
            Import next file
          </Button>
        ) : null}
      </DialogActions>
    </Dialog>
  );
}
