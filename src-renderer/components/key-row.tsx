/** One key in the Level editor: its input, status, chips, actions and (on demand) its chain. */
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import CircularProgress from '@mui/material/CircularProgress';
import type { SxProps, Theme } from '@mui/material/styles';
import { memo, useEffect, useId, useRef, type FormEvent, type ReactNode } from 'react';
import type { SlotKeyView } from '../../src-main/contract/contract.js';
import { describeSource, environmentTone, isSecret, labelFor, valueTypeFor } from '../lib/forms.js';
import { useShallow } from 'zustand/react/shallow';
import { useStrata, useStrataStore } from '../store/store.js';
import { ChainView } from './chain-view.js';
import { controlFor, KeyInput } from './key-input.js';

/**
 * Every row is styled by this one object (class selectors inside): a row mounts one styled
 * element instead of a dozen MUI Typography/Stack/Button components, which made switching
 * tenants and filtering keys slow. The buttons follow MUI's button look (text, outlined,
 * contained, small) from the theme.
 */
const ROW_SX: SxProps<Theme> = (theme) => ({
  border: 1,
  borderColor: 'divider',
  borderRadius: 1,
  p: 1.5,
  display: 'flex',
  flexDirection: 'column',
  gap: 1,
  '&.key-row-focused': { borderColor: 'primary.main' },
  '& .key-row-line': { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 1 },
  '& .key-row-title': { ...theme.typography.subtitle2, m: 0 },
  '& .key-row-key': {
    ...theme.typography.caption,
    fontFamily: 'monospace',
    color: 'text.secondary',
  },
  '& .key-row-help': { ...theme.typography.body2, m: 0, color: 'text.secondary' },
  '& .key-row-status': { ...theme.typography.caption, color: 'text.secondary' },
  '& .key-row-revealed': {
    ...theme.typography.body2,
    m: 0,
    fontFamily: 'monospace',
    wordBreak: 'break-all',
  },
  '& .key-row-button': {
    ...theme.typography.button,
    // The theme's small buttons: no capitals, 0.8125rem.
    textTransform: 'none',
    fontSize: '0.8125rem',
    boxSizing: 'border-box',
    minWidth: 64,
    px: '5px',
    py: '4px',
    border: 0,
    borderRadius: `${theme.shape.borderRadius}px`,
    bgcolor: 'transparent',
    color: 'primary.main',
    cursor: 'pointer',
    transition: theme.transitions.create(['background-color', 'border-color']),
    '&:hover': { bgcolor: 'action.hover' },
    '&:focus-visible': { outline: 2, outlineColor: 'primary.main', outlineOffset: 2 },
    '&.outlined': {
      px: '9px',
      py: '3px',
      border: '1px solid color-mix(in srgb, currentColor 50%, transparent)',
    },
    '&.contained': {
      px: '10px',
      bgcolor: 'primary.main',
      color: 'primary.contrastText',
      boxShadow: theme.shadows[2],
      '&:hover': { bgcolor: 'primary.dark' },
    },
    '&.warning': { color: 'warning.main' },
    '&.secondary': { color: 'secondary.main' },
    '&:disabled': {
      color: 'action.disabled',
      cursor: 'default',
      pointerEvents: 'none',
      boxShadow: 'none',
      '&.outlined': { borderColor: 'action.disabledBackground' },
      '&.contained': { bgcolor: 'action.disabledBackground' },
    },
  },
});

function shorten(value: string, max = 80): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/**
 * A key row. Memoised: a row re-renders only when its item (a new slot) or its own store entries
 * change, not whenever the editor around it does (typing in the key filter, another row's edit).
 */
export const KeyRow = memo(function KeyRow({ item }: { item: SlotKeyView }): ReactNode {
  const key = item.key;
  const titleId = useId();
  const ref = useRef<HTMLDivElement>(null);
  const meta = useStrata((s) => s.metaByKey[key]);
  const input = useStrata((s) => s.inputs[key]);
  const error = useStrata((s) => s.fieldErrors[key] ?? null);
  const chain = useStrata((s) => s.chains[key]);
  const revealed = useStrata((s) => s.revealed[key]);
  const busy = useStrata((s) => !!s.busyKeys[key]);
  const focused = useStrata((s) => s.focusKey === key);
  const production = useStrata(
    (s) => s.info?.kind === 'postgres' && environmentTone(s.info.environment) === 'production',
  );
  const store = useStrataStore();
  const actions = useStrata(
    useShallow((s) => ({
      setInput: s.setInput,
      resetInput: s.resetInput,
      save: s.save,
      stageInput: s.stageInput,
      removeOverride: s.removeOverride,
      toggleChain: s.toggleChain,
      reveal: s.reveal,
      hide: s.hide,
      notify: s.notify,
    })),
  );

  useEffect(() => {
    if (focused) ref.current?.scrollIntoView({ block: 'center' });
  }, [focused]);

  const label = labelFor(key, meta);
  const secret = isSecret(key, meta) || !!item.entry?.encrypted;
  const valueType = valueTypeFor(item, meta);
  const control = controlFor(meta, valueType, secret);
  const entry = item.entry;
  const inherited = item.inherited;
  const overridden = !!entry && !!inherited && inherited.level !== 'default';
  const dirty = input !== undefined;

  let shown: string;
  if (dirty) shown = input;
  else if (secret) shown = '';
  else if (control === 'checkbox' || control === 'select' || control === 'radio')
    shown = entry?.value ?? inherited?.value ?? '';
  else shown = entry?.value ?? '';

  const placeholder = secret
    ? entry
      ? '•••••••• set here; type to replace'
      : inherited
        ? '•••••••• inherited'
        : ''
    : (inherited?.value ?? '');

  const status = entry
    ? `${entry.staged ? 'Staged here' : 'Set here'} (version ${entry.version}${entry.updatedBy ? `, by ${entry.updatedBy}` : ''})`
    : inherited
      ? `Inherited from ${describeSource(inherited.level, inherited.scope)}${secret ? '' : `: ${shorten(inherited.value ?? '')}`}`
      : 'Not set at any level';

  // The change reason is read when a button is pressed, not subscribed to: typing a reason must
  // not re-render every mounted key row on each keystroke.
  const currentReason = (): string | null => store.getState().changeReason.trim() || null;
  const needReason = (): boolean => {
    if (production && !currentReason()) {
      actions.notify('warning', 'Production changes need a reason; fill in "Reason for changes".');
      return true;
    }
    return false;
  };

  return (
    <Box
      component="form"
      ref={ref}
      role="group"
      aria-labelledby={titleId}
      data-key={key}
      noValidate
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        if (dirty && !error && !busy && !needReason()) void actions.save(key, currentReason());
      }}
      className={focused ? 'key-row-focused' : undefined}
      sx={ROW_SX}
    >
      <div className="key-row-line">
        <h4 id={titleId} className="key-row-title">
          {label}
        </h4>
        <span className="key-row-key">{key}</span>
        {overridden ? <Chip size="small" color="warning" label="Overridden" /> : null}
        {entry?.staged ? <Chip size="small" color="info" label="Staged" /> : null}
        {entry?.locked ? <Chip size="small" color="error" label="Locked" /> : null}
        {item.lockedAbove ? (
          <Chip size="small" color="error" variant="outlined" label="Locked above" />
        ) : null}
        {secret ? <Chip size="small" variant="outlined" label="Secret" /> : null}
      </div>
      {meta?.helpText || meta?.description ? (
        <p className="key-row-help">{meta.helpText ?? meta.description}</p>
      ) : null}
      <KeyInput
        label={label}
        meta={meta}
        valueType={valueType}
        secret={secret}
        value={shown}
        placeholder={placeholder}
        error={error}
        helper={null}
        disabled={busy}
        onChange={(v) => actions.setInput(key, v)}
      />
      <span className="key-row-status">{status}</span>
      {revealed !== undefined ? (
        <p className="key-row-revealed" aria-label={`Revealed value of ${label}`}>
          {revealed}
        </p>
      ) : null}
      <div className="key-row-line">
        <button
          type="submit"
          className="key-row-button contained"
          disabled={!dirty || !!error || busy}
        >
          Save
        </button>
        <button
          type="button"
          className="key-row-button outlined"
          disabled={!dirty || !!error || busy}
          onClick={() => void actions.stageInput(key, currentReason())}
        >
          Stage
        </button>
        <button
          type="button"
          className="key-row-button"
          disabled={!dirty || busy}
          onClick={() => actions.resetInput(key)}
        >
          Reset
        </button>
        <button
          type="button"
          className="key-row-button outlined warning"
          disabled={!entry || busy}
          onClick={() => {
            if (!needReason()) void actions.removeOverride(key, currentReason());
          }}
        >
          Remove override
        </button>
        <button
          type="button"
          className="key-row-button"
          onClick={() => void actions.toggleChain(key)}
          aria-expanded={!!chain}
        >
          {chain ? 'Hide chain' : 'Show chain'}
        </button>
        {secret && entry ? (
          revealed !== undefined ? (
            <button type="button" className="key-row-button" onClick={() => actions.hide(key)}>
              Hide value
            </button>
          ) : (
            <button
              type="button"
              className="key-row-button secondary"
              onClick={() => void actions.reveal(key)}
            >
              Reveal
            </button>
          )
        ) : null}
        {busy ? <CircularProgress size={16} aria-label="Working" /> : null}
      </div>
      {chain === 'loading' ? <CircularProgress size={16} aria-label="Loading chain" /> : null}
      {chain && chain !== 'loading' ? <ChainView resolution={chain} /> : null}
    </Box>
  );
});
