/**
 * The variables form of a template: one field per variable, labelled with its name, with its
 * description and example as help, validated inline with the core's own rules (so the form
 * refuses exactly what the service would), and secrets typed into password fields.
 */
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import type { ReactNode } from 'react';
import { checkVariableRules } from '../../../src-main/core/templates/rules.js';
import type { TemplateVariable } from '../../../src-main/core/templates/types.js';

/** The inline problem with one variable's value, or null. */
export function variableProblem(v: TemplateVariable, value: string | undefined): string | null {
  const text = value ?? '';
  if (text === '') {
    return v.required && v.default === undefined ? `${v.name} is required.` : null;
  }
  const bad = checkVariableRules(text, v.validation);
  return bad ? `${v.name} ${bad}.` : null;
}

/** Problems of every variable, by name (only those with a problem). */
export function variableProblems(
  variables: readonly TemplateVariable[],
  values: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of variables) {
    const p = variableProblem(v, values[v.name]);
    if (p) out[v.name] = p;
  }
  return out;
}

/** Only the variables given a value (empty ones fall back to defaults on the server). */
export function filledVars(values: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
}

/** Props of VariableFields. */
export interface VariableFieldsProps {
  variables: readonly TemplateVariable[];
  values: Readonly<Record<string, string>>;
  /** Problems reported by the server's preview, by variable name. */
  serverErrors?: Readonly<Record<string, string>>;
  /** Show problems of untouched fields too (after a Next attempt). */
  showAll: boolean;
  onChange(name: string, value: string): void;
}

/** One field per variable. */
export function VariableFields(props: VariableFieldsProps): ReactNode {
  return (
    <Stack spacing={2}>
      {props.variables.map((v) => {
        const value = props.values[v.name] ?? '';
        const local = value !== '' || props.showAll ? variableProblem(v, value) : null;
        const problem = local ?? props.serverErrors?.[v.name] ?? null;
        const help = [v.description, v.example !== undefined ? `Example: ${v.example}` : null]
          .filter(Boolean)
          .join(' — ');
        const options = v.validation?.options;
        if (options && options.length > 0) {
          return (
            <TextField
              key={v.name}
              select
              label={v.name}
              value={value}
              required={v.required}
              error={!!problem}
              helperText={problem ?? help}
              onChange={(e) => props.onChange(v.name, e.target.value)}
              slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
            >
              <option value="">
                {v.default !== undefined ? `(default: ${v.default})` : '(choose)'}
              </option>
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
            key={v.name}
            label={v.name}
            value={value}
            required={v.required}
            type={v.secret ? 'password' : 'text'}
            placeholder={v.default ?? v.example ?? ''}
            error={!!problem}
            helperText={problem ?? help}
            onChange={(e) => props.onChange(v.name, e.target.value)}
            fullWidth
            slotProps={{
              inputLabel: { shrink: true },
              htmlInput: { autoComplete: v.secret ? 'new-password' : 'off', spellCheck: false },
            }}
          />
        );
      })}
    </Stack>
  );
}
