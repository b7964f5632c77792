/**
 * Plan view: a three-way diff (base, theirs, mine) of every staged change, conflict settlement
 * (Keep mine / Take theirs / edit), and a Push that the operator confirms by typing the target
 * environment, with a progress bar.
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
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type ReactNode } from 'react';
import type { PlanItem } from '../../src-main/contract/contract.js';
import { confirmationWord, describeParentChange, showValue } from '../lib/plan.js';
import { describeSource, environmentTone } from '../lib/forms.js';
import { useStrata } from '../store/store.js';
import { PlanGuardrails, PushTargetField } from '../features/drafts/plan-extras.js';
import { slotKeyOf } from '../features/drafts/drafts-slice.js';

const STATUS_COLOR: Record<
  PlanItem['status'],
  'success' | 'info' | 'warning' | 'error' | 'default'
> = {
  create: 'success',
  update: 'info',
  delete: 'warning',
  unchanged: 'default',
  conflict: 'error',
};

function Cell({ label, value }: { label: string; value: string | null }): ReactNode {
  return (
    <Box sx={{ minWidth: 0 }}>
      <Typography variant="caption" color="text.secondary">
        {label}
      </Typography>
      <Typography
        variant="body2"
        sx={{ fontFamily: 'monospace', wordBreak: 'break-all' }}
        color={value === null ? 'text.disabled' : 'text.primary'}
      >
        {value === null ? '(not set)' : value}
      </Typography>
    </Box>
  );
}

/** One readable line: what the push does to the slot, old -> new. */
export function describeChange(item: PlanItem): string {
  const mine = item.action === 'unset' ? null : item.mine;
  switch (item.status) {
    case 'create':
      return `added: ${showValue(mine)}`;
    case 'update':
      return `changed: ${showValue(item.theirs)} -> ${showValue(mine)}`;
    case 'delete':
      return `removed: ${showValue(item.theirs)} -> (inherited)`;
    case 'unchanged':
      return `no change: the target already holds ${showValue(item.theirs)}`;
    case 'conflict':
      return `conflict: staged over ${showValue(item.base)}, the target now holds ${showValue(item.theirs)}; mine is ${showValue(mine)}`;
  }
}

function ItemRow({ item, environment }: { item: PlanItem; environment: string | null }): ReactNode {
  const resolveConflict = useStrata((s) => s.resolveConflict);
  const edit = useStrata((s) => s.planEdits[item.id]);
  const setPlanEdit = useStrata((s) => s.setPlanEdit);
  const pushing = useStrata((s) => s.planStatus === 'pushing');
  const live = useStrata((s) => s.liveConflicts[slotKeyOf(item)]);
  return (
    <Box
      component="li"
      aria-label={`${item.key} at ${item.level} ${item.scope}`}
      sx={{ listStyle: 'none', border: 1, borderColor: 'divider', borderRadius: 1, p: 1 }}
    >
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
        <Typography variant="subtitle2" sx={{ fontFamily: 'monospace' }}>
          {item.key}
        </Typography>
        <Typography variant="body2" color="text.secondary">
          {describeSource(item.level, item.scope)}
        </Typography>
        <Chip size="small" color={STATUS_COLOR[item.status]} label={item.status} />
        {item.resolution ? (
          <Chip size="small" variant="outlined" label={`resolved: ${item.resolution}`} />
        ) : null}
        {live ? (
          <Chip
            size="small"
            color="error"
            variant="outlined"
            label={`changed in the target${'changedBy' in live ? ` by ${live.changedBy}` : ''}`}
          />
        ) : null}
      </Stack>
      <Typography variant="body2" aria-label={`Change of ${item.key}`}>
        {describeChange(item)}
      </Typography>
      <Box sx={{ display: 'grid', gridTemplateColumns: '1fr 1fr 1fr', gap: 1, mt: 0.5 }}>
        <Cell label="Base (when staged)" value={item.base} />
        <Cell label="Theirs (target now)" value={item.theirs} />
        <Cell label="Mine" value={item.action === 'unset' ? null : item.mine} />
      </Box>
      {item.reason ? <Typography variant="body2">Reason: {item.reason}</Typography> : null}
      {(item.parentChanged ?? []).map((p) => (
        <Alert
          key={`${p.level}\u0000${p.scope}`}
          severity="warning"
          variant="outlined"
          aria-label={`Parent changed for ${item.key}`}
          sx={{ mt: 0.5, py: 0 }}
        >
          {describeParentChange(p, environment)}
        </Alert>
      ))}
      {item.status === 'conflict' ? (
        <Stack direction="row" spacing={1} sx={{ mt: 1, alignItems: 'center', flexWrap: 'wrap' }}>
          <Button
            variant={item.resolution === 'mine' ? 'contained' : 'outlined'}
            disabled={pushing}
            onClick={() => void resolveConflict(item.id, 'mine')}
          >
            Keep mine
          </Button>
          <Button
            variant={item.resolution === 'theirs' ? 'contained' : 'outlined'}
            disabled={pushing}
            onClick={() => void resolveConflict(item.id, 'theirs')}
          >
            Take theirs
          </Button>
          <TextField
            label={`Edited value for ${item.key}`}
            type={item.secret ? 'password' : 'text'}
            value={edit ?? ''}
            onChange={(e) => setPlanEdit(item.id, e.target.value)}
            sx={{ minWidth: 200 }}
          />
          <Button
            variant={item.resolution === 'edit' ? 'contained' : 'outlined'}
            disabled={pushing || edit === undefined}
            onClick={() => void resolveConflict(item.id, 'edit')}
          >
            Use edited value
          </Button>
        </Stack>
      ) : null}
    </Box>
  );
}

/** The Plan dialog. */
export function PlanView(): ReactNode {
  const open = useStrata((s) => s.planOpen);
  const plan = useStrata((s) => s.plan);
  const status = useStrata((s) => s.planStatus);
  const error = useStrata((s) => s.planError);
  const progress = useStrata((s) => s.pushProgress);
  const result = useStrata((s) => s.planResult);
  const closePlan = useStrata((s) => s.closePlan);
  const push = useStrata((s) => s.push);
  const [confirmText, setConfirmText] = useState('');
  const [reason, setReason] = useState('');
  const word = plan ? confirmationWord(plan) : '';
  const production = environmentTone(plan?.environment) === 'production';
  const pending = plan ? plan.items.filter((i) => i.status !== 'unchanged').length : 0;
  const blocked = useStrata((s) =>
    (s.planLint?.findings ?? []).some(
      (f) => f.severity === 'error' && (f.rule !== 'policy' || s.overrideReason.trim() === ''),
    ),
  );
  const canPush =
    !blocked &&
    !!plan &&
    status === 'ready' &&
    plan.summary.unresolved === 0 &&
    pending > 0 &&
    confirmText === word &&
    (!production || reason.trim().length > 0);

  return (
    <Dialog
      open={open}
      onClose={() => (status === 'pushing' ? undefined : closePlan())}
      maxWidth="lg"
      fullWidth
      aria-labelledby="plan-title"
    >
      <DialogTitle id="plan-title">Plan</DialogTitle>
      <DialogContent>
        <Box
          component="section"
          aria-label="Plan"
          sx={{ display: 'flex', flexDirection: 'column', gap: 1 }}
        >
          {status === 'planning' ? <LinearProgress aria-label="Planning" /> : null}
          {error ? <Alert severity="error">{error}</Alert> : null}
          <PushTargetField />
          {result ? (
            <Alert severity="success" role="status">
              {result}
            </Alert>
          ) : null}
          {plan ? (
            <>
              <Alert severity={production ? 'error' : 'info'}>
                Target: {plan.target}
                {plan.environment ? ` (${plan.environment})` : ''} — {plan.summary.create} to
                create, {plan.summary.update} to update, {plan.summary.delete} to remove,{' '}
                {plan.summary.conflicts} conflict(s), {plan.summary.unresolved} unresolved.
              </Alert>
              <Box
                component="ul"
                sx={{ m: 0, p: 0, display: 'flex', flexDirection: 'column', gap: 1 }}
              >
                {plan.items.map((item) => (
                  <ItemRow key={item.id} item={item} environment={plan.environment} />
                ))}
              </Box>
              <PlanGuardrails />
              <Stack direction="row" spacing={1} sx={{ flexWrap: 'wrap', rowGap: 1 }}>
                <TextField
                  label={production ? 'Reason (required in production)' : 'Reason'}
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                  sx={{ flex: 1, minWidth: 240 }}
                />
                <TextField
                  label={`Type ${word} to confirm`}
                  value={confirmText}
                  onChange={(e) => setConfirmText(e.target.value)}
                  sx={{ minWidth: 240 }}
                />
              </Stack>
            </>
          ) : null}
          {progress ? (
            <Box>
              <LinearProgress
                variant="determinate"
                aria-label="Push progress"
                value={progress.total ? (100 * progress.done) / progress.total : 100}
              />
              <Typography variant="caption">
                {progress.done} of {progress.total} pushed
              </Typography>
            </Box>
          ) : null}
        </Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={closePlan} disabled={status === 'pushing'}>
          Close
        </Button>
        <Button
          variant="contained"
          color={production ? 'error' : 'primary'}
          disabled={!canPush}
          onClick={() =>
            void push(confirmText, reason.trim() || null).then((ok) => {
              if (ok) setConfirmText('');
            })
          }
        >
          Push
        </Button>
      </DialogActions>
    </Dialog>
  );
}
