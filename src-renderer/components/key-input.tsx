/** The input for one key, chosen from its metadata (input type, options) and value type. */
import Checkbox from '@mui/material/Checkbox';
import FormControl from '@mui/material/FormControl';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormHelperText from '@mui/material/FormHelperText';
import FormLabel from '@mui/material/FormLabel';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import TextField from '@mui/material/TextField';
import { useId, type ReactNode } from 'react';
import type { InputType, KeyMetadata, ValueType } from '../../src-main/core/types.js';

/** Props of KeyInput. */
export interface KeyInputProps {
  label: string;
  meta: KeyMetadata | undefined;
  valueType: ValueType;
  secret: boolean;
  value: string;
  placeholder: string;
  error: string | null;
  helper: string | null;
  disabled: boolean;
  onChange: (value: string) => void;
}

/** Which control a key gets. */
export function controlFor(
  meta: KeyMetadata | undefined,
  valueType: ValueType,
  secret: boolean,
): InputType {
  if (meta) {
    if (secret && meta.inputType === 'text') return 'password';
    if (
      (meta.inputType === 'select' || meta.inputType === 'radio') &&
      !meta.validationRules.options?.length
    ) {
      return 'text';
    }
    return meta.inputType;
  }
  if (secret) return 'password';
  if (valueType === 'boolean') return 'checkbox';
  if (valueType === 'json') return 'textarea';
  if (valueType === 'number') return 'number';
  return 'text';
}

/** The input control, labelled with the key's display name. */
export function KeyInput(props: KeyInputProps): ReactNode {
  const id = useId();
  const control = controlFor(props.meta, props.valueType, props.secret);
  const helper = props.error ?? props.helper;
  const options = props.meta?.validationRules.options ?? [];

  if (control === 'checkbox') {
    return (
      <FormControl error={!!props.error} disabled={props.disabled}>
        <FormControlLabel
          label={props.label}
          control={
            <Checkbox
              checked={props.value === 'true'}
              onChange={(e) => props.onChange(e.target.checked ? 'true' : 'false')}
            />
          }
        />
        {helper ? <FormHelperText>{helper}</FormHelperText> : null}
      </FormControl>
    );
  }

  if (control === 'radio') {
    return (
      <FormControl error={!!props.error} disabled={props.disabled}>
        <FormLabel id={`${id}-label`}>{props.label}</FormLabel>
        <RadioGroup
          row
          aria-labelledby={`${id}-label`}
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
        >
          {options.map((o) => (
            <FormControlLabel key={o} value={o} control={<Radio size="small" />} label={o} />
          ))}
        </RadioGroup>
        {helper ? <FormHelperText>{helper}</FormHelperText> : null}
      </FormControl>
    );
  }

  if (control === 'select') {
    const known = options.includes(props.value);
    return (
      <TextField
        select
        id={id}
        label={props.label}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        error={!!props.error}
        helperText={helper}
        disabled={props.disabled}
        sx={{ minWidth: 240 }}
        slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
      >
        {!known ? <option value={props.value}>{props.value || '(not set)'}</option> : null}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </TextField>
    );
  }

  return (
    <TextField
      id={id}
      label={props.label}
      value={props.value}
      placeholder={props.placeholder}
      onChange={(e) => props.onChange(e.target.value)}
      error={!!props.error}
      helperText={helper}
      disabled={props.disabled}
      type={control === 'password' ? 'password' : 'text'}
      multiline={control === 'textarea'}
      minRows={control === 'textarea' ? 2 : undefined}
      fullWidth
      slotProps={{
        inputLabel: { shrink: true },
        htmlInput: {
          autoComplete: control === 'password' ? 'new-password' : 'off',
          spellCheck: false,
          inputMode: control === 'number' ? 'decimal' : undefined,
        },
      }}
    />
  );
}
