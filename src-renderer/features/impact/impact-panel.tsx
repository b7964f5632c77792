/**
 * Impact panel: for the staged change set, per key and changed slot, how many users, groups,
 * departments and tenants see a different value, with a drill-down to any affected user's
 * before -> after (and where each value comes from).
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
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import type { KeyImpact } from '../../../src-main/contract/impact-channels.js';
import type { Resolution } from '../../../src-main/core/types.js';
import { describeSource } from '../../lib/forms.js';
import { useStrata } from '../../store/store.js';

/** Users offered for drill-down per key. */
const SHOWN_USERS = 12;

function shown(r: Resolution): string {
  const value = r.value === null ? '(not set)' : JSON.stringify(r.value);
  return `${value} from ${describeSource(r.level as 'global', r.scope)}`;
}

function KeyBlock({ impact }: { impact: KeyImpact }): ReactNode {
  const drill = useStrata((s) => s.drillImpactUser);
  const users = impact.userIds ?? [];
  return (
    <Box
      component="li"
      aria-label={`Impact of ${impact.key}`}
      sx={{ listStyle: 'none', border: 1, borderColor: 'divider', borderRadius: 1, p: 1 }}
    >
      <Typography variant="subtitle2" sx={{ fontFamily: 'monospace' }}>
        {impact.key}
      </Typography>
      <Typography variant="body2">
        {impact.usersAffected} user(s), {impact.groups.length} group(s), {impact.departments.length}{' '}
        department(s), {impact.tenants.length} tenant(s)
      </Typography>
      <Box component="ul" sx={{ m: 0, pl: 2 }}>
        {impact.slots.map((s) => (
          <li key={`${s.level}:${s.scope}`}>
            <Typography variant="body2">
              {s.action === 'unset' ? 'remove at' : 'set at'} {describeSource(s.level, s.scope)}:{' '}
              {s.usersAffected} user(s)
              {s.tenants.length > 0 ? ` in ${s.tenants.join(', ')}` : ''}
            </Typography>
          </li>
        ))}
      </Box>
      {users.length > 0 ? (
        <Stack direction="row" sx={{ flexWrap: 'wrap', gap: 0.5, mt: 0.5 }}>
          {users.slice(0, SHOWN_USERS).map((u) => (
            <Button
              key={u}
              size="small"
              variant="outlined"
              onClick={() => void drill(u, impact.key)}
            >
              {u}
            </Button>
          ))}
          {users.length > SHOWN_USERS ? (
            <Typography variant="caption">and {users.length - SHOWN_USERS} more</Typography>
          ) : null}
        </Stack>
      ) : null}
    </Box>
  );
}

function UserDrill(): ReactNode {
  const user = useStrata((s) => s.impactUser);
  const drill = useStrata((s) => s.drillImpactUser);
  if (!user) return null;
  return (
    <Box component="section" aria-label={`Impact on ${user.userId}`}>
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
        <Typography variant="subtitle1">User {user.userId}: before -&gt; after</Typography>
        <Button size="small" onClick={() => void drill(null)}>
          Hide
        </Button>
      </Stack>
      <Box component="ul" sx={{ m: 0, pl: 2 }}>
        {user.items.map((i) => (
          <li key={i.key}>
            <Typography variant="body2" sx={{ fontFamily: 'monospace' }}>
              {i.key}: {shown(i.before)} -&gt; {shown(i.after)}
              {i.changed ? '' : ' (unchanged)'}
            </Typography>
          </li>
        ))}
      </Box>
    </Box>
  );
}

/** The Impact dialog. */
export function ImpactPanel(): ReactNode {
  const open = useStrata((s) => s.impactOpen);
  const setOpen = useStrata((s) => s.openImpact);
  const impact = useStrata((s) => s.impact);
  const status = useStrata((s) => s.impactStatus);
  const error = useStrata((s) => s.impactError);
  return (
    <Dialog
      open={open}
      onClose={() => void setOpen(false)}
      maxWidth="md"
      fullWidth
      aria-labelledby="impact-title"
    >
      <DialogTitle id="impact-title">Impact of the staged changes</DialogTitle>
      <DialogContent>
        <Box
          component="section"
          aria-label="Impact"
          sx={{ display: 'flex', flexDirection: 'column', gap: 1 }}
        >
          {status === 'loading' ? <LinearProgress aria-label="Computing impact" /> : null}
          {error ? <Alert severity="error">{error}</Alert> : null}
          {impact && status === 'ready' ? (
            <>
              <Alert severity={impact.usersAffected > 0 ? 'warning' : 'info'}>
                {impact.changes} changed slot(s) affect {impact.usersAffected} of{' '}
                {impact.totalUsers} user(s).
              </Alert>
              <Box
                component="ul"
                sx={{ m: 0, p: 0, display: 'flex', flexDirection: 'column', gap: 1 }}
              >
                {impact.keys.map((k) => (
                  <KeyBlock key={k.key} impact={k} />
                ))}
              </Box>
              <UserDrill />
            </>
          ) : null}
        </Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={() => void setOpen(false)}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
