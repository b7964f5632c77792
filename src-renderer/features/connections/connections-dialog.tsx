/**
 * The Connections screen: the saved profiles (PostgreSQL databases and draft workspaces, each
 * labelled with its environment), Test and Open for each, and the create / edit form. Opening
 * production, or leaving queued changes behind, asks for confirmation first.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import CircularProgress from '@mui/material/CircularProgress';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useState, type ReactNode } from 'react';
import type {
  ProfileEnvironment,
  ProfileView,
} from '../../../src-main/contract/connection-channels.js';
import { ENVIRONMENT_LABEL } from '../../lib/forms.js';
import { useStrata } from '../../store/store.js';
import { ConnectionForm } from './connection-form.js';
import { TestResult } from './test-result.js';

const ENV_CHIP_COLOR: Record<ProfileEnvironment, 'error' | 'warning' | 'success'> = {
  production: 'error',
  staging: 'warning',
  development: 'success',
};

/** Why opening a profile needs a confirmation, or null when it does not. */
export function openWarning(profile: ProfileView, queued: number): string | null {
  const parts: string[] = [];
  if (profile.environment === 'production') {
    parts.push(`${profile.name} is PRODUCTION: changes made there reach live systems at once.`);
  }
  if (queued > 0) {
    parts.push(`${queued} change(s) queued in this console and not pushed will be discarded.`);
  }
  return parts.length > 0 ? parts.join(' ') : null;
}

function ProfileRow(props: {
  profile: ProfileView;
  current: boolean;
  onEdit: () => void;
  onOpen: () => void;
}): ReactNode {
  const { profile, current, onEdit, onOpen } = props;
  const test = useStrata((s) => s.testConnection);
  const remove = useStrata((s) => s.deleteConnection);
  const result = useStrata((s) => s.connectionTests[profile.id]);
  const opening = useStrata((s) => s.openingProfile);
  return (
    <Box
      component="li"
      aria-label={profile.name}
      sx={{ listStyle: 'none', border: 1, borderColor: 'divider', borderRadius: 1, p: 1 }}
    >
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center', flexWrap: 'wrap' }}>
        <Typography variant="subtitle2">{profile.name}</Typography>
        <Chip
          size="small"
          color={ENV_CHIP_COLOR[profile.environment]}
          label={ENVIRONMENT_LABEL[profile.environment]}
        />
        <Chip
          size="small"
          variant="outlined"
          label={profile.kind === 'postgres' ? 'PostgreSQL' : 'Draft'}
        />
        {current ? <Chip size="small" color="primary" label="Open now" /> : null}
        <Box sx={{ flex: 1 }} />
        <Button size="small" onClick={onEdit}>
          Edit
        </Button>
        <Button
          size="small"
          disabled={current}
          onClick={() => void remove(profile.id)}
          aria-label={`Delete ${profile.name}`}
        >
          Delete
        </Button>
        <Button
          size="small"
          variant="outlined"
          disabled={result === 'testing'}
          onClick={() => void test(profile.id, { id: profile.id })}
          aria-label={`Test ${profile.name}`}
        >
          Test
        </Button>
        <Button
          size="small"
          variant="contained"
          color={profile.environment === 'production' ? 'error' : 'primary'}
          disabled={opening !== null}
          onClick={onOpen}
          aria-label={`Open ${profile.name}`}
        >
          {opening === profile.id ? <CircularProgress size={16} color="inherit" /> : 'Open'}
        </Button>
      </Stack>
      <Typography variant="body2" sx={{ fontFamily: 'monospace', wordBreak: 'break-all' }}>
        {profile.displayTarget}
      </Typography>
      <Typography variant="caption" color="text.secondary">
        {profile.kind === 'postgres'
          ? profile.hasPassword
            ? 'Password stored · '
            : 'No password stored · '
          : ''}
        {profile.lastOpened
          ? `last opened ${new Date(profile.lastOpened).toLocaleString()}`
          : 'never opened'}
      </Typography>
      <TestResult result={result} label={`Test result for ${profile.name}`} />
    </Box>
  );
}

/** The Connections dialog. */
export function ConnectionsDialog(): ReactNode {
  const open = useStrata((s) => s.connectionsOpen);
  const setOpen = useStrata((s) => s.setConnectionsOpen);
  const list = useStrata((s) => s.connections);
  const status = useStrata((s) => s.connectionsStatus);
  const error = useStrata((s) => s.connectionsError);
  const openConnection = useStrata((s) => s.openConnection);
  const queued = useStrata((s) => s.local.length);
  // null: the list; 'new': an empty form; a profile: editing it.
  const [editing, setEditing] = useState<ProfileView | 'new' | null>(null);
  const [confirming, setConfirming] = useState<ProfileView | null>(null);

  const close = (): void => {
    setEditing(null);
    setConfirming(null);
    setOpen(false);
  };
  const requestOpen = (profile: ProfileView): void => {
    if (openWarning(profile, queued)) setConfirming(profile);
    else void openConnection(profile.id, false);
  };
  const current = list?.current.profileId ?? null;

  return (
    <>
      <Dialog
        open={open}
        onClose={close}
        maxWidth="md"
        fullWidth
        aria-labelledby="connections-title"
      >
        <DialogTitle id="connections-title">Connections</DialogTitle>
        <DialogContent>
          <Box
            component="section"
            aria-label="Connections"
            sx={{ display: 'flex', flexDirection: 'column', gap: 1 }}
          >
            {status === 'loading' && !list ? (
              <CircularProgress size={20} aria-label="Loading connections" />
            ) : null}
            {error ? (
              <Alert severity="error" role="alert">
                {error}
              </Alert>
            ) : null}
            {list ? (
              <Alert severity={list.vault.persistent ? 'info' : 'warning'} aria-label="Passwords">
                {list.vault.note}
              </Alert>
            ) : null}
            {editing !== null ? (
              <ConnectionForm
                key={editing === 'new' ? 'new' : editing.id}
                profile={editing === 'new' ? null : editing}
                onDone={() => setEditing(null)}
              />
            ) : list ? (
              <>
                <Typography variant="body2">
                  Open now: <strong>{list.current.name}</strong> ({list.current.target})
                </Typography>
                {list.profiles.length === 0 ? (
                  <Typography color="text.secondary">
                    No saved connections yet. Add a PostgreSQL database or a draft workspace.
                  </Typography>
                ) : (
                  <Box
                    component="ul"
                    aria-label="Saved connections"
                    sx={{ m: 0, p: 0, display: 'flex', flexDirection: 'column', gap: 1 }}
                  >
                    {list.profiles.map((p) => (
                      <ProfileRow
                        key={p.id}
                        profile={p}
                        current={p.id === current}
                        onEdit={() => setEditing(p)}
                        onOpen={() => requestOpen(p)}
                      />
                    ))}
                  </Box>
                )}
              </>
            ) : null}
          </Box>
        </DialogContent>
        <DialogActions>
          {editing === null ? (
            <Button onClick={() => setEditing('new')} disabled={!list}>
              New connection
            </Button>
          ) : null}
          <Button onClick={close}>Close</Button>
        </DialogActions>
      </Dialog>
      <Dialog
        open={confirming !== null}
        onClose={() => setConfirming(null)}
        aria-labelledby="connections-confirm-title"
      >
        <DialogTitle id="connections-confirm-title">
          {confirming?.environment === 'production'
            ? `Open ${confirming.name} (PRODUCTION)?`
            : `Open ${confirming?.name ?? ''}?`}
        </DialogTitle>
        <DialogContent>
          <DialogContentText>{confirming ? openWarning(confirming, queued) : ''}</DialogContentText>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirming(null)}>Cancel</Button>
          <Button
            variant="contained"
            color={confirming?.environment === 'production' ? 'error' : 'primary'}
            onClick={() => {
              const profile = confirming;
              setConfirming(null);
              if (profile) void openConnection(profile.id, true);
            }}
          >
            {confirming?.environment === 'production' ? 'Open production' : 'Open'}
          </Button>
        </DialogActions>
      </Dialog>
    </>
  );
}
