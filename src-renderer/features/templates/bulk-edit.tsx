/**
 * Bulk edit: set or remove one key at many scopes of one level (every department of a tenant, a
 * chosen list of groups...) as ONE change set. The scopes are picked from a filterable
 * multi-select list; the value is checked inline with the key's metadata rules.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormGroup from '@mui/material/FormGroup';
import Paper from '@mui/material/Paper';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import Stack from '@mui/material/Stack';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useId, useMemo, useState, type ReactNode } from 'react';
import type { BulkSetResult } from '../../../src-main/contract/template-channels.js';
import { isValidKey } from '../../../src-main/core/keys.js';
import type { Level } from '../../../src-main/core/types.js';
import { KeyInput } from '../../components/key-input.js';
import { checkValue, isSecret } from '../../lib/forms.js';
import { useStrata } from '../../store/store.js';
import { levelLabel, scopeOptions } from './scopes.js';

type BulkLevel = Exclude<Level, 'global'>;
const LEVELS: BulkLevel[] = ['tenant', 'department', 'group', 'user'];
/** Most scopes the list shows at once (narrow it with the tenant and the filter). */
const SHOWN = 400;

/** The bulk edit form. */
export function BulkEdit(): ReactNode {
  const directory = useStrata((s) => s.directory);
  const metadata = useStrata((s) => s.metadata);
  const metaByKey = useStrata((s) => s.metaByKey);
  const live = useStrata((s) => s.info?.kind === 'postgres');
  const bulkSet = useStrata((s) => s.bulkSet);
  const listId = useId();

  const [key, setKey] = useState('');
  const [level, setLevel] = useState<BulkLevel>('department');
  const [tenant, setTenant] = useState('');
  const [filter, setFilter] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [action, setAction] = useState<'set' | 'unset'>('set');
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<BulkSetResult | null>(null);

  const meta = metaByKey[key];
  const valueType = meta?.valueType ?? 'string';
  const secret = key !== '' && isSecret(key, meta);
  const keyError = key !== '' && !isValidKey(key) ? `'${key}' is not a valid key.` : null;
  const valueError =
    action === 'set' && key !== '' && !keyError ? checkValue(key, value, valueType, meta) : null;
  const all = useMemo(() => (directory ? scopeOptions(directory, level) : []), [directory, level]);
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return all.filter(
      (o) =>
        (tenant === '' || o.tenantId === tenant) && (f === '' || o.label.toLowerCase().includes(f)),
    );
  }, [all, tenant, filter]);
  const ready = key !== '' && !keyError && chosen.length > 0 && (action === 'unset' || !valueError);

  const toggle = (scope: string, on: boolean): void => {
    setChosen((c) => (on ? [...c, scope] : c.filter((s) => s !== scope)));
    setResult(null);
  };

  const run = async (dryRun: boolean): Promise<void> => {
    setBusy(true);
    const r = await bulkSet({
      key,
      action,
      ...(action === 'set' ? { value, valueType } : {}),
      level,
      scopes: chosen,
      reason: reason.trim() === '' ? null : reason.trim(),
      dryRun,
    });
    setBusy(false);
    if (r) setResult(r);
  };

  return (
    <Box role="region" aria-label="Bulk edit">
      <Stack spacing={2} sx={{ maxWidth: 900 }}>
        <Stack direction="row" spacing={2}>
          <TextField
            label="Key"
            value={key}
            onChange={(e) => {
              setKey(e.target.value.trim());
              setResult(null);
            }}
            error={!!keyError}
            helperText={keyError ?? meta?.description ?? 'A dotted key, e.g. ui.theme'}
            sx={{ minWidth: 320 }}
            slotProps={{
              inputLabel: { shrink: true },
              htmlInput: { list: listId, spellCheck: false },
            }}
          />
          <datalist id={listId}>
            {metadata.map((m) => (
              <option key={m.key} value={m.key}>
                {m.displayName}
              </option>
            ))}
          </datalist>
          <TextField
            select
            label="Level"
            value={level}
            onChange={(e) => {
              setLevel(e.target.value as BulkLevel);
              setChosen([]);
              setResult(null);
            }}
            slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
          >
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {levelLabel(l)}
              </option>
            ))}
          </TextField>
        </Stack>

        <Paper variant="outlined" sx={{ p: 2 }}>
          <Stack direction="row" spacing={2} sx={{ mb: 1, alignItems: 'center' }}>
            <TextField
              select
              size="small"
              label="Tenant"
              value={tenant}
              onChange={(e) => setTenant(e.target.value)}
              slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
            >
              <option value="">All tenants</option>
              {(directory?.tenants ?? []).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </TextField>
            <TextField
              size="small"
              label="Filter scopes"
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
              slotProps={{ inputLabel: { shrink: true } }}
            />
            <Button
              onClick={() => {
                setChosen((c) => [...new Set([...c, ...shown.map((o) => o.value)])]);
                setResult(null);
              }}
            >
              Select all shown
            </Button>
            <Button onClick={() => setChosen([])}>Clear</Button>
            <Typography variant="body2">{chosen.length} selected</Typography>
          </Stack>
          <FormGroup
            aria-label="Scopes"
            role="group"
            sx={{ maxHeight: 260, overflow: 'auto', flexWrap: 'nowrap' }}
          >
            {shown.slice(0, SHOWN).map((o) => (
              <FormControlLabel
                key={o.value}
                control={
                  <Checkbox
                    size="small"
                    checked={chosen.includes(o.value)}
                    onChange={(e) => toggle(o.value, e.target.checked)}
                  />
                }
                label={o.label}
              />
            ))}
          </FormGroup>
          {shown.length > SHOWN ? (
            <Typography variant="body2" color="text.secondary">
              {shown.length - SHOWN} more; narrow the list with the tenant or the filter.
            </Typography>
          ) : null}
        </Paper>

        <RadioGroup
          row
          aria-label="Action"
          value={action}
          onChange={(e) => {
            setAction(e.target.value as 'set' | 'unset');
            setResult(null);
          }}
        >
          <FormControlLabel value="set" control={<Radio />} label="Set the value" />
          <FormControlLabel value="unset" control={<Radio />} label="Remove the override" />
        </RadioGroup>
        {action === 'set' ? (
          <KeyInput
            label="Value"
            meta={meta}
            valueType={valueType}
            secret={secret}
            value={value}
            placeholder=""
            error={key !== '' ? valueError : null}
            helper={meta?.helpText ?? null}
            disabled={key === '' || !!keyError}
            onChange={(v) => {
              setValue(v);
              setResult(null);
            }}
          />
        ) : null}
        <TextField
          label="Reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          fullWidth
          slotProps={{ inputLabel: { shrink: true } }}
        />
        <Stack direction="row" spacing={1}>
          <Button variant="outlined" disabled={!ready || busy} onClick={() => void run(true)}>
            Preview
          </Button>
          <Button
            variant="contained"
            color={live ? 'warning' : 'primary'}
            disabled={!ready || busy}
            onClick={() => void run(false)}
          >
            {live ? 'Apply' : 'Stage'}
          </Button>
        </Stack>

        {result ? (
          <Box>
            <Alert severity={result.dryRun ? 'info' : 'success'} role="status" sx={{ mb: 1 }}>
              {result.dryRun ? 'Would change' : live ? 'Changed' : 'Staged'} {result.key} at{' '}
              {result.written} of {result.items.length} {result.level} scopes
              {result.dryRun ? '' : ' as one change set'}.
            </Alert>
            <Table size="small" aria-label="Bulk edit result">
              <TableHead>
                <TableRow>
                  <TableCell>Scope</TableCell>
                  <TableCell>Before</TableCell>
                  <TableCell>After</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {result.items.map((i) => (
                  <TableRow key={i.scope}>
                    <TableCell>{i.scope}</TableCell>
                    <TableCell>{i.previous ?? '—'}</TableCell>
                    <TableCell>
                      {i.changed ? (i.action === 'unset' ? '(removed)' : i.value) : '(unchanged)'}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </Box>
        ) : null}
      </Stack>
    </Box>
  );
}
