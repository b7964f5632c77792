/**
 * The template wizard: choose a template, fill its variables (validated inline, with examples
 * and the template's instructions beside the form), choose the level and scope, review the diff
 * against what the scope holds and inherits, then stage it (or, on a live database, apply it).
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import FormControlLabel from '@mui/material/FormControlLabel';
import Paper from '@mui/material/Paper';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import Stack from '@mui/material/Stack';
import Step from '@mui/material/Step';
import StepLabel from '@mui/material/StepLabel';
import Stepper from '@mui/material/Stepper';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type {
  TemplateDetail,
  TemplatePreview,
  TemplateWriteResult,
} from '../../../src-main/contract/template-channels.js';
import type { Level } from '../../../src-main/core/types.js';
import { useStrata } from '../../store/store.js';
import { DiffTable, summaryText } from './diff-table.js';
import { levelLabel, scopeOptions } from './scopes.js';
import { VariableFields, filledVars, variableProblems } from './variable-fields.js';

/** The steps, in order. */
export const TEMPLATE_STEPS = [
  'Choose template',
  'Fill variables',
  'Choose level and scope',
  'Review changes',
  'Stage',
] as const;

/** The instructions panel shown beside the variables form. */
export function Instructions(props: { lines: readonly string[] }): ReactNode {
  return (
    <Paper variant="outlined" sx={{ p: 2 }} role="region" aria-label="Instructions">
      <Typography variant="subtitle2" component="h3" gutterBottom>
        Instructions
      </Typography>
      {props.lines.length === 0 ? (
        <Typography variant="body2" color="text.secondary">
          This template has no setup instructions.
        </Typography>
      ) : (
        <Box component="ol" sx={{ pl: 2.5, m: 0 }}>
          {props.lines.map((line, i) => (
            <Typography key={i} component="li" variant="body2" sx={{ mb: 0.5 }}>
              {line.replace(/^\d+\.\s*/, '')}
            </Typography>
          ))}
        </Box>
      )}
    </Paper>
  );
}

/** The template wizard. */
export function TemplateWizard(): ReactNode {
  const list = useStrata((s) => s.templateList);
  const directory = useStrata((s) => s.directory);
  const info = useStrata((s) => s.info);
  const selected = useStrata((s) => s.selected);
  const loadTemplateDetail = useStrata((s) => s.loadTemplateDetail);
  const previewTemplate = useStrata((s) => s.previewTemplate);
  const applyTemplate = useStrata((s) => s.applyTemplate);

  const [step, setStep] = useState(0);
  const [name, setName] = useState<string | null>(null);
  const [detail, setDetail] = useState<TemplateDetail | null>(null);
  const [vars, setVars] = useState<Record<string, string>>({});
  const [showAll, setShowAll] = useState(false);
  const [level, setLevel] = useState<Level | null>(null);
  const [scope, setScope] = useState('');
  const [preview, setPreview] = useState<TemplatePreview | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TemplateWriteResult | null>(null);

  const live = info?.kind === 'postgres';
  const templates = useMemo(() => list ?? [], [list]);
  const def = detail?.definition ?? null;
  const problems = def ? variableProblems(def.variables, vars) : {};
  const serverErrors = useMemo(() => {
    const out: Record<string, string> = {};
    for (const e of preview?.errors ?? []) if (e.variable) out[e.variable] ??= e.message;
    return out;
  }, [preview]);
  const scopes = useMemo(
    () => (directory && level ? scopeOptions(directory, level) : []),
    [directory, level],
  );

  useEffect(() => {
    if (!name) return;
    let cancelled = false;
    void loadTemplateDetail(name).then((d) => {
      if (cancelled || !d) return;
      setDetail(d);
      const levels = d.summary.levels;
      // Start at the navigator's selection when the template applies there.
      const start = levels.includes(selected.level) ? selected.level : d.summary.targetLevel;
      setLevel(start);
      setScope(start === selected.level ? selected.scope : '');
    });
    return () => {
      cancelled = true;
    };
    // The selection is read when a template is chosen, not followed afterwards.
  }, [name, loadTemplateDetail]);

  const choose = (n: string): void => {
    if (n === name) return;
    setName(n);
    setDetail(null);
    setVars({});
    setShowAll(false);
    setPreview(null);
  };

  const review = async (): Promise<void> => {
    if (!name || !level) return;
    setBusy(true);
    const p = await previewTemplate({ template: name, level, scope, vars: filledVars(vars) });
    setBusy(false);
    if (p) {
      setPreview(p);
      setStep(3);
    }
  };

  const next = async (): Promise<void> => {
    if (step === 0 && name && detail) setStep(1);
    else if (step === 1) {
      setShowAll(true);
      if (Object.keys(problems).length === 0) setStep(2);
    } else if (step === 2) await review();
    else if (step === 3 && preview?.ok) setStep(4);
  };

  const stage = async (): Promise<void> => {
    if (!name || !level) return;
    setBusy(true);
    const r = await applyTemplate({
      template: name,
      level,
      scope,
      vars: filledVars(vars),
      reason: reason.trim() === '' ? null : reason.trim(),
    });
    setBusy(false);
    if (r) setResult(r);
  };

  const restart = (): void => {
    setStep(0);
    setName(null);
    setDetail(null);
    setVars({});
    setShowAll(false);
    setPreview(null);
    setReason('');
    setResult(null);
  };

  const canNext =
    !busy &&
    ((step === 0 && !!detail && detail.summary.name === name) ||
      step === 1 ||
      (step === 2 && !!level && (level === 'global' || scope !== '')) ||
      (step === 3 && !!preview?.ok));

  return (
    <Box role="region" aria-label="Template wizard">
      <Stepper activeStep={step} sx={{ mb: 3 }}>
        {TEMPLATE_STEPS.map((label) => (
          <Step key={label}>
            <StepLabel>{label}</StepLabel>
          </Step>
        ))}
      </Stepper>

      {step === 0 ? (
        <RadioGroup
          aria-label="Template"
          value={name ?? ''}
          onChange={(e) => choose(e.target.value)}
        >
          {templates.map((t) => (
            <FormControlLabel
              key={t.name}
              value={t.name}
              disabled={t.missingTraits.length > 0}
              control={<Radio />}
              label={
                <Box>
                  <Typography component="span" sx={{ fontWeight: 600 }}>
                    {t.name}
                  </Typography>{' '}
                  <Typography component="span" variant="body2" color="text.secondary">
                    v{t.version} · {t.kind} · {t.levels.join(', ')}
                    {t.missingTraits.length > 0 ? ` · needs ${t.missingTraits.join(', ')}` : ''}
                  </Typography>
                  <Typography variant="body2">{t.description}</Typography>
                </Box>
              }
              sx={{ alignItems: 'flex-start', mb: 1 }}
            />
          ))}
        </RadioGroup>
      ) : null}

      {step === 1 && def ? (
        <Box
          sx={{
            display: 'grid',
            gridTemplateColumns: 'minmax(280px, 1fr) minmax(240px, 380px)',
            gap: 3,
          }}
        >
          <Box component="form" aria-label="Variables" onSubmit={(e) => e.preventDefault()}>
            {def.variables.length === 0 ? (
              <Typography color="text.secondary">This template has no variables.</Typography>
            ) : (
              <VariableFields
                variables={def.variables}
                values={vars}
                serverErrors={serverErrors}
                showAll={showAll}
                onChange={(n, v) => {
                  setVars((old) => ({ ...old, [n]: v }));
                  setPreview(null);
                }}
              />
            )}
          </Box>
          <Instructions lines={def.instructions} />
        </Box>
      ) : null}

      {step === 2 && detail ? (
        <Stack direction="row" spacing={2}>
          <TextField
            select
            label="Level"
            value={level ?? ''}
            onChange={(e) => {
              setLevel(e.target.value as Level);
              setScope('');
            }}
            slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
            sx={{ minWidth: 160 }}
          >
            {detail.summary.levels.map((l) => (
              <option key={l} value={l}>
                {levelLabel(l)}
              </option>
            ))}
          </TextField>
          {level && level !== 'global' ? (
            <TextField
              select
              label="Scope"
              value={scope}
              onChange={(e) => setScope(e.target.value)}
              slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
              sx={{ minWidth: 360 }}
            >
              <option value="">(choose)</option>
              {scopes.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </TextField>
          ) : null}
        </Stack>
      ) : null}

      {step === 3 && preview ? (
        <Box>
          {!preview.ok ? (
            <Alert severity="error" role="alert" sx={{ mb: 2 }}>
              <Typography component="h3" variant="subtitle2">
                The template cannot be applied here:
              </Typography>
              <Box component="ul" sx={{ m: 0, pl: 2.5 }}>
                {preview.errors.map((e, i) => (
                  <li key={i}>{e.message}</li>
                ))}
              </Box>
            </Alert>
          ) : (
            <>
              <Typography sx={{ mb: 1 }}>
                {preview.template} v{preview.version} at {preview.level}
                {preview.scope ? ` ${preview.scope}` : ''}: {summaryText(preview.summary)}.
              </Typography>
              <DiffTable items={preview.items} label="Changes to review" />
            </>
          )}
        </Box>
      ) : null}

      {step === 4 && preview ? (
        <Stack spacing={2} sx={{ maxWidth: 640 }}>
          {result ? (
            <Alert severity="success" role="status">
              {result.mode === 'live' ? 'Applied' : 'Staged'} {result.template} v{result.version} at{' '}
              {result.level} {result.scope}: {result.written} value{result.written === 1 ? '' : 's'}
              {result.mode === 'staged' ? '; review and push them from Staged changes.' : '.'}
            </Alert>
          ) : (
            <>
              {live ? (
                <Alert severity="warning">
                  This is a live database{info?.environment ? ` (${info.environment})` : ''}: the
                  values are written and audited immediately.
                </Alert>
              ) : null}
              <Typography>
                {summaryText(preview.summary)} at {preview.level}
                {preview.scope ? ` ${preview.scope}` : ''}.
              </Typography>
              <TextField
                label="Reason"
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                placeholder={`template ${preview.template} v${preview.version}`}
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
            Apply another template
          </Button>
        ) : (
          <>
            <Button
              disabled={step === 0 || busy}
              onClick={() => setStep((s) => Math.max(0, s - 1))}
            >
              Back
            </Button>
            {step < 4 ? (
              <Button variant="contained" disabled={!canNext} onClick={() => void next()}>
                Next
              </Button>
            ) : (
              <Button
                variant="contained"
                color={live ? 'warning' : 'primary'}
                disabled={busy}
                onClick={() => void stage()}
              >
                {live ? 'Apply' : 'Stage'}
              </Button>
            )}
          </>
        )}
      </Stack>
    </Box>
  );
}
