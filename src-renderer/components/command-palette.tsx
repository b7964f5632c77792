/**
 * Command palette (Ctrl+K): jump to a key, a tenant or a user, or run a console command. Commands
 * are plain objects (label, group, perform), so the palette and the keyboard share one definition.
 */
import Dialog from '@mui/material/Dialog';
import List from '@mui/material/List';
import ListItemButton from '@mui/material/ListItemButton';
import ListItemText from '@mui/material/ListItemText';
import TextField from '@mui/material/TextField';
import { useMemo, useState, type ReactNode } from 'react';
import { useStrata } from '../store/store.js';
import type { StrataState } from '../store/types.js';
import { labelFor } from '../lib/forms.js';

/** One palette entry. */
export interface Command {
  id: string;
  label: string;
  group: 'Key' | 'Tenant' | 'Department' | 'User' | 'Command';
  perform: () => void | Promise<void>;
}

/** Builds the palette's entries matching `query` (at most `limit`). */
export function paletteCommands(state: StrataState, query: string, limit = 30): Command[] {
  const q = query.trim().toLowerCase();
  const hit = (...texts: Array<string | null | undefined>): boolean =>
    !q || texts.some((t) => (t ?? '').toLowerCase().includes(q));
  const out: Command[] = [];
  const add = (c: Command): boolean => {
    out.push(c);
    return out.length >= limit;
  };
  const commands: Command[] = [
    {
      id: 'cmd:theme',
      label: 'Toggle light/dark theme',
      group: 'Command',
      perform: state.toggleTheme,
    },
    {
      id: 'cmd:audit',
      label: 'Open audit log',
      group: 'Command',
      perform: () => state.setAuditOpen(true),
    },
    {
      id: 'cmd:staged',
      label: 'Open staged changes',
      group: 'Command',
      perform: () => state.setDrawerOpen(true),
    },
    {
      id: 'cmd:plan',
      label: 'Plan staged changes',
      group: 'Command',
      perform: () => state.makePlan(),
    },
    ...(state.info?.kind === 'draft' && state.info.source
      ? [
          {
            id: 'cmd:pull',
            label: `Pull ${state.info.source.target} again (keeps staged changes)`,
            group: 'Command' as const,
            perform: async () => {
              await state.pullAgain();
            },
          },
        ]
      : []),
    {
      id: 'cmd:global',
      label: 'Go to Global',
      group: 'Command',
      perform: () => state.select('global', ''),
    },
  ];
  for (const c of commands) if (hit(c.label) && add(c)) return out;
  const dir = state.directory;
  for (const t of dir?.tenants ?? []) {
    if (
      hit(t.id, t.name) &&
      add({
        id: `t:${t.id}`,
        label: `${t.name} (${t.id})`,
        group: 'Tenant',
        perform: () => state.select('tenant', t.id),
      })
    )
      return out;
  }
  for (const d of dir?.departments ?? []) {
    const scope = `${d.tenantId}/${d.id}`;
    if (
      hit(scope, d.name) &&
      add({
        id: `d:${scope}`,
        label: `${d.name} (${scope})`,
        group: 'Department',
        perform: () => state.select('department', scope),
      })
    )
      return out;
  }
  const keys = new Set<string>([
    ...state.metadata.map((m) => m.key),
    ...(state.slot?.items.map((i) => i.key) ?? []),
  ]);
  for (const key of [...keys].sort()) {
    const label = labelFor(key, state.metaByKey[key]);
    if (
      hit(key, label) &&
      add({
        id: `k:${key}`,
        label: label === key ? key : `${label} (${key})`,
        group: 'Key',
        perform: () => state.jumpToKey(key),
      })
    )
      return out;
  }
  for (const u of dir?.users ?? []) {
    if (
      hit(u.id, u.displayName, u.email) &&
      add({
        id: `u:${u.id}`,
        label: u.displayName ? `${u.displayName} (${u.id})` : u.id,
        group: 'User',
        perform: () => state.jumpToUser(u.id),
      })
    )
      return out;
  }
  return out;
}

function PaletteBody({ onDone }: { onDone: () => void }): ReactNode {
  const state = useStrata((s) => s);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const results = useMemo(() => paletteCommands(state, query), [state, query]);
  const run = (c: Command | undefined): void => {
    if (!c) return;
    onDone();
    void c.perform();
  };
  return (
    <>
      <TextField
        autoFocus
        fullWidth
        label="Jump to a key, tenant or user"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((i) => Math.min(i + 1, results.length - 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((i) => Math.max(i - 1, 0));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            run(results[active]);
          }
        }}
        slotProps={{
          htmlInput: {
            role: 'combobox',
            'aria-expanded': true,
            'aria-controls': 'palette-results',
            'aria-activedescendant': results[active] ? `palette-${active}` : undefined,
          },
        }}
        sx={{ p: 1 }}
      />
      <List
        id="palette-results"
        role="listbox"
        aria-label="Results"
        dense
        sx={{ maxHeight: 400, overflow: 'auto' }}
      >
        {results.map((c, i) => (
          <ListItemButton
            key={c.id}
            id={`palette-${i}`}
            role="option"
            aria-selected={i === active}
            selected={i === active}
            onClick={() => run(c)}
          >
            <ListItemText primary={c.label} secondary={c.group} />
          </ListItemButton>
        ))}
      </List>
    </>
  );
}

/** The palette dialog. */
export function CommandPalette(): ReactNode {
  const open = useStrata((s) => s.paletteOpen);
  const setOpen = useStrata((s) => s.setPaletteOpen);
  return (
    <Dialog
      open={open}
      onClose={() => setOpen(false)}
      fullWidth
      maxWidth="sm"
      aria-label="Command palette"
    >
      {open ? <PaletteBody onDone={() => setOpen(false)} /> : null}
    </Dialog>
  );
}
