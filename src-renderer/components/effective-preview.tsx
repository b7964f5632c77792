/**
 * Effective preview: what one user (or an ad-hoc context) gets for every key and from which
 * level, optionally side by side with a second user.
 */
import Alert from '@mui/material/Alert';
import Autocomplete, { createFilterOptions } from '@mui/material/Autocomplete';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import LinearProgress from '@mui/material/LinearProgress';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import { useMemo, type ReactNode } from 'react';
import type { DirectoryUser, Group } from '../../src-main/core/types.js';
import type { EffectiveItem } from '../../src-main/services/types.js';
import { describeSource } from '../lib/forms.js';
import { useStrata } from '../store/store.js';
import { VirtualList } from './virtual-list.js';

const userFilter = createFilterOptions<DirectoryUser>({
  limit: 50,
  stringify: (u) => `${u.id} ${u.displayName ?? ''} ${u.email ?? ''}`,
});

function userLabel(u: DirectoryUser): string {
  return u.displayName ? `${u.displayName} (${u.id})` : u.id;
}

/** One row of the comparison. */
export interface PreviewRow {
  key: string;
  a: EffectiveItem | null;
  b: EffectiveItem | null;
  differs: boolean;
}

/** Joins one or two effective configurations by key. */
export function previewRows(
  a: readonly EffectiveItem[],
  b: readonly EffectiveItem[] | null,
  filter: string,
): PreviewRow[] {
  const byKeyB = new Map((b ?? []).map((i) => [i.key, i]));
  const keys = new Set([...a.map((i) => i.key), ...(b ?? []).map((i) => i.key)]);
  const byKeyA = new Map(a.map((i) => [i.key, i]));
  const q = filter.trim().toLowerCase();
  return [...keys]
    .filter((k) => !q || k.toLowerCase().includes(q))
    .sort()
    .map((key) => {
      const ia = byKeyA.get(key) ?? null;
      const ib = b ? (byKeyB.get(key) ?? null) : null;
      return { key, a: ia, b: ib, differs: !!b && (ia?.value ?? null) !== (ib?.value ?? null) };
    });
}

function ValueCell({ item }: { item: EffectiveItem | null }): ReactNode {
  if (!item) return <Typography color="text.disabled">(not set)</Typography>;
  return (
    <Box sx={{ minWidth: 0 }}>
      <Typography
        variant="body2"
        sx={{ fontFamily: 'monospace', wordBreak: 'break-all' }}
        color={item.value === null ? 'text.disabled' : 'text.primary'}
      >
        {item.value === null ? '(no value)' : item.value}
      </Typography>
      <Typography variant="caption" color="text.secondary">
        {describeSource(item.level, item.scope)}
      </Typography>
    </Box>
  );
}

function AdhocControls(): ReactNode {
  const directory = useStrata((s) => s.directory);
  const target = useStrata((s) => s.previewTarget);
  const setTarget = useStrata((s) => s.setPreviewTarget);
  if (!directory || target?.kind !== 'adhoc') return null;
  const depts = directory.departments.filter((d) => d.tenantId === target.tenantId);
  const groups = directory.groups.filter((g) => !g.tenantId || g.tenantId === target.tenantId);
  const chosen = target.groups
    .map((id) => directory.groups.find((g) => g.id === id))
    .filter((g): g is Group => !!g);
  return (
    <Stack direction="row" spacing={1} sx={{ flexWrap: 'wrap', rowGap: 1 }}>
      <TextField
        select
        label="Tenant"
        value={target.tenantId}
        onChange={(e) =>
          void setTarget({ kind: 'adhoc', tenantId: e.target.value, department: null, groups: [] })
        }
        slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
        sx={{ minWidth: 160 }}
      >
        {directory.tenants.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </TextField>
      <TextField
        select
        label="Department"
        value={target.department ?? ''}
        onChange={(e) => void setTarget({ ...target, department: e.target.value || null })}
        slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
        sx={{ minWidth: 160 }}
      >
        <option value="">(none)</option>
        {depts.map((d) => (
          <option key={d.id} value={d.id}>
            {d.name}
          </option>
        ))}
      </TextField>
      <Autocomplete
        multiple
        options={groups}
        value={chosen}
        getOptionLabel={(g) => g.name}
        isOptionEqualToValue={(a, b) => a.id === b.id}
        onChange={(_e, value) => void setTarget({ ...target, groups: value.map((g) => g.id) })}
        sx={{ minWidth: 240, flex: 1 }}
        renderInput={(params) => <TextField {...params} label="Groups, first wins" />}
      />
    </Stack>
  );
}

/** The Effective preview landmark. */
export function EffectivePreview(): ReactNode {
  const directory = useStrata((s) => s.directory);
  const target = useStrata((s) => s.previewTarget);
  const setTarget = useStrata((s) => s.setPreviewTarget);
  const compareUserId = useStrata((s) => s.compareUserId);
  const setCompareUser = useStrata((s) => s.setCompareUser);
  const effective = useStrata((s) => s.effective);
  const compareEffective = useStrata((s) => s.compareEffective);
  const status = useStrata((s) => s.previewStatus);
  const error = useStrata((s) => s.previewError);
  const filter = useStrata((s) => s.previewFilter);
  const setFilter = useStrata((s) => s.setPreviewFilter);
  const users = directory?.users ?? [];
  const userById = useMemo(() => new Map(users.map((u) => [u.id, u])), [users]);
  const rows = useMemo(
    () => previewRows(effective ?? [], compareEffective, filter),
    [effective, compareEffective, filter],
  );
  const comparing = !!compareEffective;
  const differing = rows.filter((r) => r.differs).length;
  const selectedUser = target?.kind === 'user' ? (userById.get(target.userId) ?? null) : null;
  const compareUser = compareUserId ? (userById.get(compareUserId) ?? null) : null;

  return (
    <Box
      component="section"
      aria-label="Effective preview"
      sx={{ display: 'flex', flexDirection: 'column', gap: 1, p: 1, minHeight: 0, height: '100%' }}
    >
      <Typography variant="h6" component="h2">
        Effective preview
      </Typography>
      <ToggleButtonGroup
        exclusive
        size="small"
        aria-label="Preview for"
        value={target?.kind ?? 'user'}
        onChange={(_e, kind: 'user' | 'adhoc' | null) => {
          if (kind === 'user' && users[0]) void setTarget({ kind: 'user', userId: users[0].id });
          if (kind === 'adhoc' && directory?.tenants[0]) {
            void setTarget({
              kind: 'adhoc',
              tenantId: directory.tenants[0].id,
              department: null,
              groups: [],
            });
          }
        }}
      >
        <ToggleButton value="user">User</ToggleButton>
        <ToggleButton value="adhoc">Ad-hoc context</ToggleButton>
      </ToggleButtonGroup>
      {target?.kind === 'adhoc' ? (
        <AdhocControls />
      ) : (
        <Autocomplete
          options={users}
          value={selectedUser}
          filterOptions={userFilter}
          getOptionLabel={userLabel}
          isOptionEqualToValue={(a, b) => a.id === b.id}
          onChange={(_e, u) => {
            if (u) void setTarget({ kind: 'user', userId: u.id });
          }}
          renderInput={(params) => <TextField {...params} label="Preview user" />}
        />
      )}
      <Autocomplete
        options={users}
        value={compareUser}
        filterOptions={userFilter}
        getOptionLabel={userLabel}
        isOptionEqualToValue={(a, b) => a.id === b.id}
        onChange={(_e, u) => void setCompareUser(u ? u.id : null)}
        renderInput={(params) => <TextField {...params} label="Compare with user" />}
      />
      <TextField
        label="Filter preview"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      {status === 'loading' ? <LinearProgress aria-label="Loading preview" /> : null}
      {error ? <Alert severity="error">{error}</Alert> : null}
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
        <Typography variant="caption" color="text.secondary">
          {rows.length} key{rows.length === 1 ? '' : 's'}
        </Typography>
        {comparing ? (
          <Chip
            size="small"
            color={differing ? 'warning' : 'default'}
            label={`${differing} differ`}
          />
        ) : null}
      </Stack>
      <Box sx={{ flex: 1, minHeight: 0 }}>
        <VirtualList
          items={rows}
          estimateSize={52}
          height="100%"
          role="list"
          ariaLabel={comparing ? 'Effective values compared' : 'Effective values'}
          getKey={(r) => r.key}
          renderItem={(row) => (
            <Box
              role="listitem"
              aria-label={row.key}
              data-differs={row.differs ? 'true' : undefined}
              sx={{
                display: 'grid',
                gridTemplateColumns: comparing
                  ? 'minmax(120px, 1fr) 1fr 1fr'
                  : 'minmax(120px, 1fr) 1fr',
                gap: 1,
                py: 0.5,
                px: 0.5,
                borderBottom: 1,
                borderColor: 'divider',
                bgcolor: row.differs ? 'action.hover' : undefined,
              }}
            >
              <Typography variant="body2" sx={{ fontFamily: 'monospace', wordBreak: 'break-all' }}>
                {row.key}
              </Typography>
              <ValueCell item={row.a} />
              {comparing ? <ValueCell item={row.b} /> : null}
            </Box>
          )}
        />
      </Box>
    </Box>
  );
}
