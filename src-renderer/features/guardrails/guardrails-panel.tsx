/**
 * Guardrails panel: the lint findings of the whole workspace (or of the staged changes only),
 * grouped by rule, each with a link that opens its slot in the Level editor.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControlLabel from '@mui/material/FormControlLabel';
import LinearProgress from '@mui/material/LinearProgress';
import Link from '@mui/material/Link';
import Switch from '@mui/material/Switch';
import Typography from '@mui/material/Typography';
import type { ReactNode } from 'react';
import type { LintFinding, LintRule } from '../../../src-main/contract/impact-channels.js';
import { describeSource } from '../../lib/forms.js';
import { useStrata } from '../../store/store.js';

/** Readable names of the guardrails, in the order the panel shows them. */
export const RULE_TITLES: Record<LintRule, string> = {
  'invalid-value': 'Invalid values',
  'unencrypted-secret': 'Unencrypted secrets',
  policy: 'Policy violations',
  locked: 'Overrides under a lock',
  dead: 'Dead overrides (shadowed everywhere)',
  redundant: 'Redundant overrides (same as inherited)',
  'unknown-scope': 'Unknown scopes',
  'no-metadata': 'Keys without metadata',
};

const SEVERITY_COLOR = { error: 'error', warning: 'warning', info: 'info' } as const;

/** Groups findings by rule, in RULE_TITLES order. */
export function groupByRule(findings: readonly LintFinding[]): Array<[LintRule, LintFinding[]]> {
  const groups = new Map<LintRule, LintFinding[]>();
  for (const f of findings) groups.set(f.rule, [...(groups.get(f.rule) ?? []), f]);
  return (Object.keys(RULE_TITLES) as LintRule[])
    .filter((r) => groups.has(r))
    .map((r) => [r, groups.get(r)!]);
}

function FindingRow({ finding }: { finding: LintFinding }): ReactNode {
  const select = useStrata((s) => s.select);
  const jumpToKey = useStrata((s) => s.jumpToKey);
  const open = useStrata((s) => s.openGuardrails);
  const where = finding.level ? describeSource(finding.level, finding.scope ?? '') : null;
  return (
    <li>
      <Chip size="small" color={SEVERITY_COLOR[finding.severity]} label={finding.severity} />{' '}
      {finding.level ? (
        <Link
          component="button"
          onClick={() => {
            void open(false);
            void select(finding.level!, finding.scope ?? '').then(() => jumpToKey(finding.key));
          }}
        >
          {finding.key} at {where}
        </Link>
      ) : (
        <Typography component="span" sx={{ fontFamily: 'monospace' }}>
          {finding.key}
        </Typography>
      )}{' '}
      <Typography component="span" variant="body2">
        {finding.message}
      </Typography>
    </li>
  );
}

/** The Guardrails dialog. */
export function GuardrailsPanel(): ReactNode {
  const open = useStrata((s) => s.guardrailsOpen);
  const setOpen = useStrata((s) => s.openGuardrails);
  const lint = useStrata((s) => s.lint);
  const staged = useStrata((s) => s.lintStaged);
  const load = useStrata((s) => s.loadLint);
  const status = useStrata((s) => s.lintStatus);
  const error = useStrata((s) => s.lintError);
  const isDraft = useStrata((s) => s.info?.kind === 'draft');
  const groups = lint ? groupByRule(lint.findings) : [];
  return (
    <Dialog
      open={open}
      onClose={() => void setOpen(false)}
      maxWidth="md"
      fullWidth
      aria-labelledby="guardrails-title"
    >
      <DialogTitle id="guardrails-title">Guardrails</DialogTitle>
      <DialogContent>
        <Box
          component="section"
          aria-label="Guardrails"
          sx={{ display: 'flex', flexDirection: 'column', gap: 1 }}
        >
          {isDraft ? (
            <FormControlLabel
              control={<Switch checked={staged} onChange={(e) => void load(e.target.checked)} />}
              label="Staged changes only (what a push checks)"
            />
          ) : null}
          {status === 'loading' ? <LinearProgress aria-label="Running guardrails" /> : null}
          {error ? <Alert severity="error">{error}</Alert> : null}
          {lint && status === 'ready' ? (
            <>
              <Alert severity={lint.counts.error > 0 ? 'error' : 'success'}>
                {lint.counts.error} error(s), {lint.counts.warning} warning(s), {lint.counts.info}{' '}
                note(s).
              </Alert>
              {groups.map(([rule, findings]) => (
                <Box key={rule} component="section" aria-label={RULE_TITLES[rule]}>
                  <Typography variant="subtitle1" component="h3">
                    {RULE_TITLES[rule]} ({findings.length})
                  </Typography>
                  <Box component="ul" sx={{ m: 0, pl: 2 }}>
                    {findings.map((f, i) => (
                      <FindingRow key={i} finding={f} />
                    ))}
                  </Box>
                </Box>
              ))}
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
