/**
 * Navigator: the hierarchy as a tree (Global > tenants > departments > groups) and a user search.
 * Both lists are flattened and virtualised, so a directory of thousands of groups and a hundred
 * thousand users stays responsive. The user search filters precomputed lower-case text and
 * renders its results as a deferred update, so typing never waits for the list.
 */
import Box from '@mui/material/Box';
import IconButton from '@mui/material/IconButton';
import ListItemButton from '@mui/material/ListItemButton';
import ListItemText from '@mui/material/ListItemText';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { memo, useDeferredValue, useLayoutEffect, useMemo, type ReactNode } from 'react';
import type { Directory, DirectoryUser, Level } from '../../src-main/core/types.js';
import { useStrata } from '../store/store.js';
import { afterPaint, VirtualList } from './virtual-list.js';

/** One visible row of the tree. */
export interface TreeRow {
  id: string;
  level: Level;
  scope: string;
  label: string;
  depth: number;
  hasChildren: boolean;
  collapsed: boolean;
}

/** Flattens the directory into the visible rows of the tree. */
export function flattenTree(dir: Directory, collapsed: Record<string, boolean>): TreeRow[] {
  const rows: TreeRow[] = [];
  const globalCollapsed = collapsed['global'] ?? false;
  rows.push({
    id: 'global',
    level: 'global',
    scope: '',
    label: 'Global',
    depth: 0,
    hasChildren: dir.tenants.length > 0,
    collapsed: globalCollapsed,
  });
  if (globalCollapsed) return rows;
  const deptsByTenant = new Map<string, Directory['departments']>();
  for (const d of dir.departments) {
    const list = deptsByTenant.get(d.tenantId) ?? [];
    list.push(d);
    deptsByTenant.set(d.tenantId, list);
  }
  const groupsByParent = new Map<string, Directory['groups']>();
  for (const g of dir.groups) {
    if (!g.tenantId) continue;
    const parent = g.department ? `${g.tenantId}/${g.department}` : g.tenantId;
    const list = groupsByParent.get(parent) ?? [];
    list.push(g);
    groupsByParent.set(parent, list);
  }
  const byName = <T extends { name: string }>(a: T, b: T): number =>
    a.name.localeCompare(b.name, undefined, { numeric: true });
  const pushGroups = (parent: string, depth: number): void => {
    for (const g of [...(groupsByParent.get(parent) ?? [])].sort(byName)) {
      rows.push({
        id: `group:${g.id}`,
        level: 'group',
        scope: g.id,
        label: g.name,
        depth,
        hasChildren: false,
        collapsed: false,
      });
    }
  };
  for (const t of [...dir.tenants].sort(byName)) {
    const id = `tenant:${t.id}`;
    const depts = [...(deptsByTenant.get(t.id) ?? [])].sort(byName);
    const isCollapsed = collapsed[id] ?? false;
    rows.push({
      id,
      level: 'tenant',
      scope: t.id,
      label: t.name,
      depth: 1,
      hasChildren: depts.length > 0 || groupsByParent.has(t.id),
      collapsed: isCollapsed,
    });
    if (isCollapsed) continue;
    for (const d of depts) {
      const scope = `${t.id}/${d.id}`;
      const deptId = `department:${scope}`;
      const deptCollapsed = collapsed[deptId] ?? false;
      rows.push({
        id: deptId,
        level: 'department',
        scope,
        label: d.name,
        depth: 2,
        hasChildren: groupsByParent.has(scope),
        collapsed: deptCollapsed,
      });
      if (!deptCollapsed) pushGroups(scope, 3);
    }
    pushGroups(t.id, 2);
  }
  return rows;
}

const LEVEL_TAG: Record<Level, string> = {
  global: '',
  tenant: 'tenant',
  department: 'department',
  group: 'group',
  user: 'user',
};

let navigatorMarked = false;

const TreeItem = memo(function TreeItem({ row }: { row: TreeRow }): ReactNode {
  const isTenant = row.level === 'tenant';
  // The page's first tenant row on screen is the "navigator ready" moment (marked once).
  useLayoutEffect(() => {
    if (!isTenant || navigatorMarked) return;
    return afterPaint(() => {
      if (navigatorMarked) return;
      navigatorMarked = true;
      performance.mark('strata:navigator-ready');
    });
  }, [isTenant]);
  const selected = useStrata(
    (s) => s.selected.level === row.level && s.selected.scope === row.scope,
  );
  const select = useStrata((s) => s.select);
  const toggleNode = useStrata((s) => s.toggleNode);
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', pl: row.depth * 1.5 }}>
      {row.hasChildren ? (
        <IconButton
          size="small"
          aria-label={`${row.collapsed ? 'Expand' : 'Collapse'} ${row.label}`}
          aria-expanded={!row.collapsed}
          onClick={() => toggleNode(row.id)}
          sx={{ width: 24, height: 24, fontSize: 12 }}
        >
          {row.collapsed ? '▸' : '▾'}
        </IconButton>
      ) : (
        <Box sx={{ width: 24 }} />
      )}
      <ListItemButton
        dense
        selected={selected}
        aria-current={selected ? 'true' : undefined}
        aria-label={row.label}
        aria-description={LEVEL_TAG[row.level] ? `${LEVEL_TAG[row.level]} ${row.scope}` : undefined}
        data-level={row.level}
        data-scope={row.scope}
        onClick={() => void select(row.level, row.scope)}
        sx={{ py: 0.25, borderRadius: 1 }}
      >
        <ListItemText
          primary={row.label}
          secondary={LEVEL_TAG[row.level] || undefined}
          slotProps={{
            primary: { noWrap: true, sx: { fontWeight: row.level === 'global' ? 700 : 400 } },
            secondary: { component: 'span', sx: { fontSize: 11 } },
          }}
          sx={{ my: 0, display: 'flex', gap: 1, alignItems: 'baseline' }}
        />
      </ListItemButton>
    </Box>
  );
});

/** Lower-case search text per user (id, name, email), built once per directory. */
function searchTexts(users: readonly DirectoryUser[]): string[] {
  return users.map((u) => `${u.id}\n${u.displayName ?? ''}\n${u.email ?? ''}`.toLowerCase());
}

function UserSearch(): ReactNode {
  const directory = useStrata((s) => s.directory);
  const query = useStrata((s) => s.userQuery);
  const setUserQuery = useStrata((s) => s.setUserQuery);
  const select = useStrata((s) => s.select);
  const selected = useStrata((s) => (s.selected.level === 'user' ? s.selected.scope : null));
  const users = directory?.users;
  const texts = useMemo(() => searchTexts(users ?? []), [users]);
  // The field shows every keystroke at once; the list follows in a deferred render.
  const deferredQuery = useDeferredValue(query);
  const matches = useMemo(() => {
    const all = users ?? [];
    const q = deferredQuery.trim().toLowerCase();
    if (!q) return all;
    const out: DirectoryUser[] = [];
    for (let i = 0; i < all.length; i++) if (texts[i]!.includes(q)) out.push(all[i]!);
    return out;
  }, [users, texts, deferredQuery]);
  // Kept out of the keystroke's urgent render: the rows change only with the results.
  const list = useMemo(
    () => (
      <VirtualList
        items={matches}
        estimateSize={44}
        height={260}
        ariaLabel="Users"
        role="list"
        getKey={(u) => u.id}
        renderItem={(u) => (
          <ListItemButton
            dense
            role="listitem"
            selected={selected === u.id}
            aria-current={selected === u.id ? 'true' : undefined}
            onClick={() => void select('user', u.id)}
          >
            <ListItemText
              primary={u.displayName ?? u.id}
              secondary={[u.id, u.tenantId, u.department].filter(Boolean).join(' · ')}
              sx={{ my: 0 }}
            />
          </ListItemButton>
        )}
      />
    ),
    [matches, selected, select],
  );
  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', gap: 1, minHeight: 0 }}>
      <TextField
        label="Search users"
        value={query}
        onChange={(e) => setUserQuery(e.target.value)}
        fullWidth
      />
      <Typography variant="caption" color="text.secondary">
        {matches.length} user{matches.length === 1 ? '' : 's'}
      </Typography>
      {list}
    </Box>
  );
}

/** The Navigator landmark. */
export function Navigator(): ReactNode {
  const directory = useStrata((s) => s.directory);
  const collapsed = useStrata((s) => s.collapsed);
  const rows = useMemo(
    () => (directory ? flattenTree(directory, collapsed) : []),
    [directory, collapsed],
  );
  return (
    <Box
      component="nav"
      aria-label="Navigator"
      sx={{
        display: 'flex',
        flexDirection: 'column',
        gap: 1,
        p: 1,
        minHeight: 0,
        height: '100%',
        overflow: 'hidden',
      }}
    >
      <Typography variant="overline" component="h2">
        Hierarchy
      </Typography>
      <Box sx={{ flex: 1, minHeight: 120, display: 'flex', flexDirection: 'column' }}>
        <VirtualList
          items={rows}
          estimateSize={32}
          height="100%"
          ariaLabel="Hierarchy"
          getKey={(r) => r.id}
          renderItem={(row) => <TreeItem row={row} />}
        />
      </Box>
      <Typography variant="overline" component="h2">
        Users
      </Typography>
      <UserSearch />
    </Box>
  );
}
