/** One key in the Level editor: its input, status, chips, actions and (on demand) its chain. */
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import CircularProgress from '@mui/material/CircularProgress';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useEffect, useId, useRef, type FormEvent, type ReactNode } from 'react';
import type { SlotKeyView } from '../../src-main/contract/contract.js';
import { describeSource, environmentTone, isSecret, labelFor, valueTypeFor } from '../lib/forms.js';
import { useShallow } from 'zustand/react/shallow';
import { useStrata } from '../store/store.js';
import { ChainView } from './chain-view.js';
import { controlFor, KeyInput } from './key-input.js';

function shorten(value: string, max = 80): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** A key row. */
export function KeyRow({ item }: { item: SlotKeyView }): ReactNode {
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
  const reason = useStrata((s) => s.changeReason);
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

  const reasonOrNull = reason.trim() ? reason.trim() : null;
  const needReason = (): boolean => {
    if (production && !reasonOrNull) {
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
        if (dirty && !error && !busy && !needReason()) void actions.save(key, reasonOrNull);
      }}
      sx={{
        border: 1,
        borderColor: focused ? 'primary.main' : 'divider',
        borderRadius: 1,
        p: 1.5,
        display: 'flex',
        flexDirection: 'column',
        gap: 1,
      }}
    >
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center', flexWrap: 'wrap' }}>
        <Typography id={titleId} variant="subtitle2" component="h4">
          {label}
        </Typography>
        <Typography variant="caption" sx={{ fontFamily: 'monospace' }} color="text.secondary">
          {key}
        </Typography>
        {overridden ? <Chip size="small" color="warning" label="Overridden" /> : null}
        {entry?.staged ? <Chip size="small" color="info" label="Staged" /> : null}
        {entry?.locked ? <Chip size="small" color="error" label="Locked" /> : null}
        {item.lockedAbove ? (
          <Chip size="small" color="error" variant="outlined" label="Locked above" />
        ) : null}
        {secret ? <Chip size="small" variant="outlined" label="Secret" /> : null}
      </Stack>
      {meta?.helpText || meta?.description ? (
        <Typography variant="body2" color="text.secondary">
          {meta.helpText ?? meta.description}
        </Typography>
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
      <Typography variant="caption" color="text.secondary">
        {status}
      </Typography>
      {revealed !== undefined ? (
        <Typography
          variant="body2"
          aria-label={`Revealed value of ${label}`}
          sx={{ fontFamily: 'monospace', wordBreak: 'break-all' }}
        >
          {revealed}
        </Typography>
      ) : null}
      <Stack direction="row" spacing={1} sx={{ flexWrap: 'wrap', alignItems: 'center' }}>
        <Button type="submit" variant="contained" disabled={!dirty || !!error || busy}>
          Save
        </Button>
        <Button
          variant="outlined"
          disabled={!dirty || !!error || busy}
          onClick={() => void actions.stageInput(key, reasonOrNull)}
        >
          Stage
        </Button>
        <Button variant="text" disabled={!dirty || busy} onClick={() => actions.resetInput(key)}>
          Reset
        </Button>
        <Button
          variant="outlined"
          color="warning"
          disabled={!entry || busy}
          onClick={() => {
            if (!needReason()) void actions.removeOverride(key, reasonOrNull);
          }}
        >
          Remove override
        </Button>
        <Button
          variant="text"
          onClick={() => void actions.toggleChain(key)}
          aria-expanded={!!chain}
        >
          {chain ? 'Hide chain' : 'Show chain'}
        </Button>
        {secret && entry ? (
          revealed !== undefined ? (
            <Button variant="text" onClick={() => actions.hide(key)}>
              Hide value
            </Button>
          ) : (
            <Button variant="text" color="secondary" onClick={() => void actions.reveal(key)}>
              Reveal
            </Button>
          )
        ) : null}
        {busy ? <CircularProgress size={16} aria-label="Working" /> : null}
      </Stack>
      {chain === 'loading' ? <CircularProgress size={16} aria-label="Loading chain" /> : null}
      {chain && chain !== 'loading' ? <ChainView resolution={chain} /> : null}
    </Box>
  );
}
