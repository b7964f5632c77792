/**
 * The tenant wizard: id and name, type (a tenant template), departments, groups in priority
 * order, a review of everything the tenant gets, then stage it as one change set (or create it
 * live on a database).
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import IconButton from '@mui/material/IconButton';
import Stack from '@mui/material/Stack';
import Step from '@mui/material/Step';
import StepLabel from '@mui/material/StepLabel';
import Stepper from '@mui/material/Stepper';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useMemo, useState, type ReactNode } from 'react';
import type {
  TemplateDetail,
  TenantCreateResult,
} from '../../../src-main/contract/template-channels.js';
import { ENTITY_ID_RE } from '../../../src-main/core/templates/rules.js';
import { useStrata } from '../../store/store.js';
import { DiffTable, summaryText } from './diff-table.js';
import { Instructions } from './template-wizard.js';
import { VariableFields, filledVars, variableProblems } from './variable-fields.js';

/** The steps, in order. */
export const TENANT_STEPS = ['Tenant', 'Type', 'Departments', 'Groups', 'Review', 'Stage'] as const;

interface DeptRow {
  id: string;
  name: string;
}

interface GroupRow {
  id: string;
  name: string;
  department: string;
}

/** Problem with a tenant, department or group id (same rule as the service), or null. */
export function idProblem(what: string, id: string): string | null {
  if (id === '') return `${what} id is required.`;
  if (id.length > 100) return `${what} id is longer than 100 characters.`;
  if (!ENTITY_ID_RE.test(id)) return `${what} id must be letters, digits, "_" or "-".`;
  return null;
}

function duplicates(ids: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const id of ids) (seen.has(id) ? dup : seen).add(id);
  return dup;
}

/** The tenant wizard. */
export function TenantWizard(): ReactNode {
  const list = useStrata((s) => s.templateList);
  const directory = useStrata((s) => s.directory);
  const info = useStrata((s) => s.info);
  const loadTemplateDetail = useStrata((s) => s.loadTemplateDetail);
  const createTenant = useStrata((s) => s.createTenant);

  const [step, setStep] = useState(0);
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [template, setTemplate] = useState('');
  const [detail, setDetail] = useState<TemplateDetail | null>(null);
  const [tenantType, setTenantType] = useState('');
  const [vars, setVars] = useState<Record<string, string>>({});
  const [departments, setDepartments] = useState<DeptRow[]>([]);
  const [groups, setGroups] = useState<GroupRow[]>([]);
  const [showAll, setShowAll] = useState(false);
  const [review, setReview] = useState<TenantCreateResult | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TenantCreateResult | null>(null);

  const live = info?.kind === 'postgres';
  const tenantTemplates = useMemo(
    () => (list ?? []).filter((t) => t.levels.includes('tenant') && t.missingTraits.length === 0),
    [list],
  );
  const exists = !!directory?.tenants.some((t) => t.id === id);
  const idError = idProblem('Tenant', id) ?? (exists ? `Tenant ${id} already exists.` : null);
  const nameError = name.trim() === '' ? 'Tenant name is required.' : null;
  const varProblems = detail ? variableProblems(detail.definition.variables, vars) : {};
  const deptDup = duplicates(departments.map((d) => d.id));
  const deptErrors = departments.map((d) =>
    deptDup.has(d.id) ? `Department ${d.id} is listed twice.` : idProblem('Department', d.id),
  );
  const groupDup = duplicates(groups.map((g) => g.id));
  const groupErrors = groups.map((g) =>
    groupDup.has(g.id) ? `Group ${g.id} is listed twice.` : idProblem('Group', g.id),
  );

  const chooseTemplate = async (t: string): Promise<void> => {
    setTemplate(t);
    setDetail(null);
    setVars({});
    setReview(null);
    if (!t) return;
    const d = await loadTemplateDetail(t);
    if (!d) return;
    setDetail(d);
    if (tenantType === '' || tenantType === detail?.definition.name)
      setTenantType(d.definition.name);
    // The template's departments and groups are the starting point; the admin edits them.
    setDepartments((d.definition.departments ?? []).map((x) => ({ ...x })));
    setGroups(
      (d.definition.groups ?? []).map((g) => ({
        id: g.id,
        name: g.name,
        department: g.department ?? '',
      })),
    );
  };

  const request = (dryRun: boolean) => ({
    id,
    name: name.trim(),
    template,
    tenantType: tenantType.trim() === '' ? null : tenantType.trim(),
    departments: departments.map((d) => ({
      id: d.id,
      ...(d.name.trim() ? { name: d.name.trim() } : {}),
    })),
    groups: groups.map((g) => ({
      id: g.id,
      ...(g.name.trim() ? { name: g.name.trim() } : {}),
      department: g.department === '' ? null : g.department,
    })),
    vars: filledVars(vars),
    dryRun,
    ...(dryRun ? {} : { reason: reason.trim() === '' ? null : reason.trim() }),
  });

  const advance = (to: number): void => {
    setStep(to);
    setShowAll(false);
  };

  const next = async (): Promise<void> => {
    setShowAll(true);
    if (step === 0) {
      if (!idError && !nameError) advance(1);
      return;
    }
    if (step === 1) {
      if (detail && Object.keys(varProblems).length === 0) advance(2);
      return;
    }
    if (step === 2) {
      if (deptErrors.some((e) => e !== null)) return;
      // A group whose department was removed falls back to the tenant.
      setGroups((gs) =>
        gs.map((g) =>
          departments.some((d) => d.id === g.department) ? g : { ...g, department: '' },
        ),
      );
      advance(3);
      return;
    }
    if (step === 3 && groupErrors.every((e) => e === null)) {
      setBusy(true);
      const r = await createTenant(request(true));
      setBusy(false);
      if (r) {
        setReview(r);
        setStep(4);
        setShowAll(false);
      }
      return;
    }
    if (step === 4 && review) setStep(5);
  };

  const stage = async (): Promise<void> => {
    setBusy(true);
    const r = await createTenant(request(false));
    setBusy(false);
    if (r) setResult(r);
  };

  const restart = (): void => {
    setStep(0);
    setId('');
    setName('');
    setTemplate('');
    setDetail(null);
    setTenantType('');
    setVars({});
    setDepartments([]);
    setGroups([]);
    setShowAll(false);
    setReview(null);
    setReason('');
    setResult(null);
  };

  const move = (i: number, by: number): void => {
    setGroups((gs) => {
      const j = i + by;
      if (j < 0 || j >= gs.length) return gs;
      const out = [...gs];
      [out[i], out[j]] = [out[j]!, out[i]!];
      return out;
    });
  };

  return (
    <Box role="region" aria-label="Tenant wizard">
      <Stepper activeStep={step} sx={{ mb: 3 }}>
        {TENANT_STEPS.map((label) => (
          <Step key={label}>
            <StepLabel>{label}</StepLabel>
          </Step>
        ))}
      </Stepper>

      {step === 0 ? (
        <Stack spacing={2} sx={{ maxWidth: 520 }}>
          <TextField
            label="Tenant id"
            value={id}
            onChange={(e) => setId(e.target.value.trim())}
            error={(showAll || id !== '') && !!idError}
            helperText={
              (showAll || id !== '') && idError
                ? idError
                : 'Letters, digits, "_" or "-"; e.g. st_marys'
            }
            slotProps={{ inputLabel: { shrink: true }, htmlInput: { spellCheck: false } }}
          />
          <TextField
            label="Tenant name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={showAll && !!nameError}
            helperText={showAll && nameError ? nameError : "Display name, e.g. St Mary's Hospital"}
            slotProps={{ inputLabel: { shrink: true } }}
          />
        </Stack>
      ) : null}

      {step === 1 ? (
        <Box
          sx={{
            display: 'grid',
            gridTemplateColumns: 'minmax(280px, 1fr) minmax(240px, 380px)',
            gap: 3,
          }}
        >
          <Stack spacing={2}>
            <TextField
              select
              label="Tenant template"
              value={template}
              error={showAll && !detail}
              helperText={
                showAll && !detail
                  ? 'Choose a tenant template.'
                  : (tenantTemplates.find((t) => t.name === template)?.description ??
                    'The template decides the starting values, departments and groups.')
              }
              onChange={(e) => void chooseTemplate(e.target.value)}
              slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
            >
              <option value="">(choose)</option>
              {tenantTemplates.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.name} (v{t.version})
                </option>
              ))}
            </TextField>
            <TextField
              label="Tenant type"
              value={tenantType}
              onChange={(e) => setTenantType(e.target.value)}
              helperText="Stored as the tenant's type; defaults to the template's name."
              slotProps={{ inputLabel: { shrink: true } }}
            />
            {detail && detail.definition.variables.length > 0 ? (
              <VariableFields
                variables={detail.definition.variables}
                values={vars}
                showAll={showAll}
                onChange={(n, v) => setVars((old) => ({ ...old, [n]: v }))}
              />
            ) : null}
          </Stack>
          <Instructions lines={detail?.definition.instructions ?? []} />
        </Box>
      ) : null}

      {step === 2 ? (
        <Stack spacing={1.5} sx={{ maxWidth: 640 }} role="group" aria-label="Departments">
          {departments.length === 0 ? (
            <Typography color="text.secondary">
              No departments: the tenant gets a "general" department.
            </Typography>
          ) : null}
          {departments.map((d, i) => (
            <Stack key={i} direction="row" spacing={1} sx={{ alignItems: 'flex-start' }}>
              <TextField
                size="small"
                label={`Department ${i + 1} id`}
                value={d.id}
                error={!!deptErrors[i] && (showAll || d.id !== '')}
                helperText={(showAll || d.id !== '') && deptErrors[i] ? deptErrors[i] : ' '}
                onChange={(e) =>
                  setDepartments((ds) =>
                    ds.map((x, j) => (j === i ? { ...x, id: e.target.value.trim() } : x)),
                  )
                }
                slotProps={{ inputLabel: { shrink: true } }}
              />
              <TextField
                size="small"
                label={`Department ${i + 1} name`}
                value={d.name}
                helperText=" "
                onChange={(e) =>
                  setDepartments((ds) =>
                    ds.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)),
                  )
                }
                slotProps={{ inputLabel: { shrink: true } }}
              />
              <Button
                onClick={() => setDepartments((ds) => ds.filter((_, j) => j !== i))}
                aria-label={`Remove department ${d.id || i + 1}`}
              >
                Remove
              </Button>
            </Stack>
          ))}
          <Box>
            <Button
              variant="outlined"
              onClick={() => setDepartments((ds) => [...ds, { id: '', name: '' }])}
            >
              Add department
            </Button>
          </Box>
        </Stack>
      ) : null}

      {step === 3 ? (
        <Stack spacing={1.5} sx={{ maxWidth: 860 }} role="group" aria-label="Groups">
          <Typography variant="body2" color="text.secondary">
            In priority order: for a user in several groups, the first group that sets a key wins.
            Group ids become {id || 'tenant'}.&lt;id&gt;.
          </Typography>
          {groups.map((g, i) => (
            <Stack key={i} direction="row" spacing={1} sx={{ alignItems: 'flex-start' }}>
              <Typography sx={{ pt: 1, width: 24 }}>{i + 1}.</Typography>
              <TextField
                size="small"
                label={`Group ${i + 1} id`}
                value={g.id}
                error={!!groupErrors[i] && (showAll || g.id !== '')}
                helperText={(showAll || g.id !== '') && groupErrors[i] ? groupErrors[i] : ' '}
                onChange={(e) =>
                  setGroups((gs) =>
                    gs.map((x, j) => (j === i ? { ...x, id: e.target.value.trim() } : x)),
                  )
                }
                slotProps={{ inputLabel: { shrink: true } }}
              />
              <TextField
                size="small"
                label={`Group ${i + 1} name`}
                value={g.name}
                helperText=" "
                onChange={(e) =>
                  setGroups((gs) =>
                    gs.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)),
                  )
                }
                slotProps={{ inputLabel: { shrink: true } }}
              />
              <TextField
                size="small"
                select
                label={`Group ${i + 1} department`}
                value={g.department}
                helperText=" "
                onChange={(e) =>
                  setGroups((gs) =>
                    gs.map((x, j) => (j === i ? { ...x, department: e.target.value } : x)),
                  )
                }
                slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
              >
                <option value="">(whole tenant)</option>
                {departments.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name || d.id}
                  </option>
                ))}
              </TextField>
              <IconButton
                aria-label={`Move group ${g.id || i + 1} up`}
                disabled={i === 0}
                onClick={() => move(i, -1)}
              >
                ↑
              </IconButton>
              <IconButton
                aria-label={`Move group ${g.id || i + 1} down`}
                disabled={i === groups.length - 1}
                onClick={() => move(i, 1)}
              >
                ↓
              </IconButton>
              <Button
                onClick={() => setGroups((gs) => gs.filter((_, j) => j !== i))}
                aria-label={`Remove group ${g.id || i + 1}`}
              >
                Remove
              </Button>
            </Stack>
          ))}
          <Box>
            <Button
              variant="outlined"
              onClick={() => setGroups((gs) => [...gs, { id: '', name: '', department: '' }])}
            >
              Add group
            </Button>
          </Box>
        </Stack>
      ) : null}

      {step === 4 && review ? (
        <Stack spacing={2} role="group" aria-label="Tenant review">
          <Typography>
            Tenant <strong>{review.tenant.id}</strong> ({review.tenant.name}), type{' '}
            {review.tenant.tenantType ?? '—'}, from {review.template} v{review.version}.
          </Typography>
          <Typography>
            Departments: {review.departments.map((d) => `${d.name} (${d.id})`).join(', ') || '—'}
          </Typography>
          <Typography>
            Groups in order:{' '}
            {review.groups
              .map(
                (g) =>
                  `${g.order + 1}. ${g.name} (${g.id}${g.department ? ` in ${g.department}` : ''})`,
              )
              .join(', ') || '—'}
          </Typography>
          <Typography>Values at the tenant: {summaryText(review.summary)}.</Typography>
          <DiffTable items={review.items} label="Tenant values to review" />
        </Stack>
      ) : null}

      {step === 5 && review ? (
        <Stack spacing={2} sx={{ maxWidth: 640 }}>
          {result ? (
            <Alert severity="success" role="status">
              {result.mode === 'live' ? 'Created' : 'Staged'} tenant {result.tenant.id} with{' '}
              {result.departments.length} departments, {result.groups.length} groups and{' '}
              {result.written} values
              {result.mode === 'staged' ? '; push them as one unit from Staged changes.' : '.'}
            </Alert>
          ) : (
            <>
              {live ? (
                <Alert severity="warning">
                  This is a live database{info?.environment ? ` (${info.environment})` : ''}: the
                  tenant is created in one transaction, immediately.
                </Alert>
              ) : null}
              <TextField
                label="Reason"
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                placeholder={`create tenant ${review.tenant.id}`}
                fullWidth
                slotProps={{ inputLabel: { shrink: true } }}
              />
            </>
          )}
        </Stack>
      ) : null}

      <Stack direction="row" spacing={1} sx={{ mt: 3 }}>
        {result ? (
          <Button variant="outlined" onClick={restart}>
            Create another tenant
          </Button>
        ) : (
          <>
            <Button
              disabled={step === 0 || busy}
              onClick={() => setStep((s) => Math.max(0, s - 1))}
            >
              Back
            </Button>
            {step < 5 ? (
              <Button variant="contained" disabled={busy} onClick={() => void next()}>
                Next
              </Button>
            ) : (
              <Button
                variant="contained"
                color={live ? 'warning' : 'primary'}
                disabled={busy}
                onClick={() => void stage()}
              >
                {live ? 'Create tenant' : 'Stage'}
              </Button>
            )}
          </>
        )}
      </Stack>
    </Box>
  );
}
