/** Staged changes: a drawer listing queued (or draft-staged) changes with their reasons. */
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Drawer from '@mui/material/Drawer';
import Stack from '@mui/material/Stack';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import { MASK } from '../../src-main/core/masking.js';
import { describeSource } from '../lib/forms.js';
import { useStrata } from '../store/store.js';
import { slotKeyOf } from '../features/drafts/drafts-slice.js';

/** One change as the drawer shows it. */
interface Row {
  id: string;
  level: string;
  scope: string;
  key: string;
  action: 'set' | 'unset';
  value: string | null;
  reason: string | null;
  author?: string | null;
}

function ChangeRow({ row }: { row: Row }): ReactNode {
  const undo = useStrata((s) => s.undo);
  const live = useStrata((s) => s.liveConflicts[slotKeyOf(row)]);
  return (
    <Box
      component="li"
      aria-label={`${row.key} at ${row.level} ${row.scope}`}
      sx={{ border: 1, borderColor: 'divider', borderRadius: 1, p: 1, listStyle: 'none' }}
    >
      <Typography variant="subtitle2" sx={{ fontFamily: 'monospace' }}>
        {row.key}
      </Typography>
      <Typography variant="body2" color="text.secondary">
        {describeSource(row.level as 'global', row.scope)} ·{' '}
        {row.action === 'unset' ? 'remove override' : `set to ${row.value ?? ''}`}
      </Typography>
      <Typography variant="body2">Reason: {row.reason ?? '(none given)'}</Typography>
      {row.author ? <Typography variant="body2">Author: {row.author}</Typography> : null}
      {live ? (
        <Typography variant="body2" color="error" role="note">
          Conflict: changed in the target
          {'changedBy' in live ? ` by ${live.changedBy}` : ''} since it was staged.
        </Typography>
      ) : null}
      <Button
        size="small"
        onClick={() => void undo(row.id)}
        aria-label={`Undo ${row.key} at ${row.level} ${row.scope}`}
      >
        Undo
      </Button>
    </Box>
  );
}

/** The Staged changes drawer (the landmark exists while it is open). */
export function StagedDrawer(): ReactNode {
  const open = useStrata((s) => s.drawerOpen);
  const setOpen = useStrata((s) => s.setDrawerOpen);
  const local = useStrata((s) => s.local);
  const server = useStrata((s) => s.serverStaged);
  const makePlan = useStrata((s) => s.makePlan);
  const openImpact = useStrata((s) => s.openImpact);
  const pullAgain = useStrata((s) => s.pullAgain);
  const pulling = useStrata((s) => s.pulling);
  const source = useStrata((s) =>
    s.info?.kind === 'draft' ? (s.info.source?.target ?? null) : null,
  );
  const unlisted = useStrata((s) =>
    s.info?.kind === 'draft' && s.serverStaged.length === 0 ? s.info.stagedCount : 0,
  );
  const rows: Row[] = [
    ...server.map((c) => ({ ...c })),
    ...local.map((c) => ({ ...c, value: c.secret && c.value !== null ? MASK : c.value })),
  ];
  return (
    <Drawer anchor="right" open={open} onClose={() => setOpen(false)}>
      <Box
        component="section"
        aria-label="Staged changes"
        sx={{ width: 420, p: 2, display: 'flex', flexDirection: 'column', gap: 1 }}
      >
        <Typography variant="h6" component="h2">
          Staged changes ({rows.length})
        </Typography>
        {unlisted > 0 ? (
          <Typography>
            {unlisted} change(s) are staged in this draft workspace. Listing, planning and pushing
            them needs the draft service, which this workspace does not offer yet.
          </Typography>
        ) : null}
        {rows.length === 0 && unlisted === 0 ? (
          <Typography color="text.secondary">
            Nothing is staged. Use Stage in the Level editor to queue a change for review.
          </Typography>
        ) : null}
        <Box component="ul" sx={{ m: 0, p: 0, display: 'flex', flexDirection: 'column', gap: 1 }}>
          {rows.map((row) => (
            <ChangeRow key={row.id} row={row} />
          ))}
        </Box>
        <Stack direction="row" spacing={1}>
          <Button
            variant="contained"
            disabled={rows.length === 0}
            onClick={() => {
              setOpen(false);
              void makePlan();
            }}
          >
            Plan
          </Button>
          <Button
            disabled={rows.length === 0 || server.length === 0}
            onClick={() => {
              setOpen(false);
              void openImpact(true);
            }}
          >
            Impact
          </Button>
          {source !== null ? (
            <Tooltip title={`Read ${source} again; staged changes are kept`}>
              <span>
                <Button
                  disabled={pulling}
                  onClick={() => {
                    // The outcome is a toast, which the open drawer would hide.
                    setOpen(false);
                    void pullAgain();
                  }}
                >
                  {pulling ? 'Pulling…' : 'Pull again'}
                </Button>
              </span>
            </Tooltip>
          ) : null}
          <Button onClick={() => setOpen(false)}>Close</Button>
        </Stack>
      </Box>
    </Drawer>
  );
}
