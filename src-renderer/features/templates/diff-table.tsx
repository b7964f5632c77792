/**
 * The review table of a template change: each key with what the scope holds now, what it would
 * inherit (and from where), and what the template sets. Secrets arrive masked from main.
 */
import Chip from '@mui/material/Chip';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import type {
  TemplateDiffSummary,
  TemplateDiffView,
  TemplateItemAction,
} from '../../../src-main/contract/template-channels.js';

const ACTION: Record<
  TemplateItemAction,
  { label: string; color: 'success' | 'warning' | 'error' | 'default' | 'info' }
> = {
  create: { label: 'New', color: 'success' },
  update: { label: 'Changed', color: 'warning' },
  remove: { label: 'Removed', color: 'error' },
  unchanged: { label: 'Unchanged', color: 'default' },
  redundant: { label: 'Same as inherited', color: 'info' },
};

function shown(value: string | null): string {
  if (value === null) return '—';
  return value === '' ? '""' : value;
}

/** "3 new, 1 changed, 2 unchanged". */
export function summaryText(s: TemplateDiffSummary): string {
  const parts = (Object.keys(ACTION) as TemplateItemAction[])
    .filter((a) => s[a] > 0)
    .map((a) => `${s[a]} ${ACTION[a].label.toLowerCase()}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing to change';
}

/** The diff of a template change, as a table labelled `label`. */
export function DiffTable(props: { items: readonly TemplateDiffView[]; label: string }): ReactNode {
  if (props.items.length === 0) {
    return <Typography color="text.secondary">No values to change.</Typography>;
  }
  return (
    <Table size="small" aria-label={props.label}>
      <TableHead>
        <TableRow>
          <TableCell>Key</TableCell>
          <TableCell>Change</TableCell>
          <TableCell>Now</TableCell>
          <TableCell>Inherited</TableCell>
          <TableCell>New</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {props.items.map((i) => (
          <TableRow key={`${i.level}:${i.scope}:${i.key}`} data-key={i.key} data-action={i.action}>
            <TableCell sx={{ fontFamily: 'monospace' }}>{i.key}</TableCell>
            <TableCell>
              <Chip size="small" label={ACTION[i.action].label} color={ACTION[i.action].color} />
              {i.locked ? (
                <Chip size="small" label="Locked" variant="outlined" sx={{ ml: 0.5 }} />
              ) : null}
              {i.lockedAbove ? (
                <Chip
                  size="small"
                  color="error"
                  variant="outlined"
                  label="Locked above: no effect"
                  sx={{ ml: 0.5 }}
                />
              ) : null}
            </TableCell>
            <TableCell>{shown(i.currentValue)}</TableCell>
            <TableCell>
              {shown(i.inheritedValue)}
              {i.inheritedFrom ? (
                <Typography component="span" variant="caption" color="text.secondary">
                  {' '}
                  ({i.inheritedFrom.level}
                  {i.inheritedFrom.scope ? ` ${i.inheritedFrom.scope}` : ''})
                </Typography>
              ) : null}
            </TableCell>
            <TableCell sx={{ fontWeight: 600 }}>
              {i.action === 'remove' ? '(removed)' : shown(i.value)}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
