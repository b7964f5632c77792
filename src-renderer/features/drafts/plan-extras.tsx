/**
 * Parts of the Plan view that belong to drafts: the target URL a draft without a source asks for
 * at its first push, and the guardrail findings that refuse a push (with a super_admin's
 * override of policy findings, which needs a reason).
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import { describeSource } from '../../lib/forms.js';
import { useStrata } from '../../store/store.js';

/** Asks for the target database of a draft that was not pulled from one. */
export function PushTargetField(): ReactNode {
  const needsTarget = useStrata((s) => s.info?.kind === 'draft' && s.info.source === null);
  const target = useStrata((s) => s.pushTarget);
  const setTarget = useStrata((s) => s.setPushTarget);
  const makePlan = useStrata((s) => s.makePlan);
  const status = useStrata((s) => s.planStatus);
  if (!needsTarget) return null;
  return (
    <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
      <TextField
        label="Target database URL (first push)"
        placeholder="postgres://user@host:5432/strata"
        type="password"
        autoComplete="off"
        value={target}
        onChange={(e) => setTarget(e.target.value)}
        sx={{ flex: 1 }}
        helperText="This draft has no source yet; its first push creates everything in this database."
      />
      <Button
        variant="outlined"
        disabled={target.trim() === '' || status === 'planning' || status === 'pushing'}
        onClick={() => void makePlan()}
      >
        Plan against it
      </Button>
    </Stack>
  );
}

/** Error-level guardrail findings of the staged set, and the override of policy findings. */
export function PlanGuardrails(): ReactNode {
  const lint = useStrata((s) => s.planLint);
  const reason = useStrata((s) => s.overrideReason);
  const setReason = useStrata((s) => s.setOverrideReason);
  const superAdmin = useStrata((s) => {
    const op = s.directory?.users.find((u) => u.id === s.info?.operator);
    return op?.traits.includes('super_admin') ?? false;
  });
  const errors = (lint?.findings ?? []).filter((f) => f.severity === 'error');
  if (errors.length === 0) return null;
  const policy = errors.some((f) => f.rule === 'policy');
  const hard = errors.some((f) => f.rule !== 'policy');
  return (
    <Box component="section" aria-label="Guardrail violations">
      <Alert severity="error">
        <Typography variant="subtitle2">
          The push is refused: {errors.length} guardrail violation(s).
        </Typography>
        <Box component="ul" sx={{ m: 0, pl: 2 }}>
          {errors.map((f, i) => (
            <li key={i}>
              <strong>{f.rule}</strong> {f.key}
              {f.level ? ` (${describeSource(f.level, f.scope ?? '')})` : ''}: {f.message}
            </li>
          ))}
        </Box>
      </Alert>
      {policy && !hard ? (
        superAdmin ? (
          <TextField
            label="Override policy findings: reason (super_admin)"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            fullWidth
            sx={{ mt: 1 }}
          />
        ) : (
          <Typography variant="body2" sx={{ mt: 1 }}>
            Only a super_admin may override policy findings.
          </Typography>
        )
      ) : null}
    </Box>
  );
}
