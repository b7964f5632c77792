/**
 * The create / edit form of a connection profile: type, environment, URL or draft path, user,
 * password and who to act as, with the validation messages shown inline before saving, and a
 * Test of the unsaved settings. A password typed into the URL is pointed out: it is moved to the
 * password store and never kept with the profile.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState, type ReactNode } from 'react';
import {
  ENVIRONMENT_CHOICES,
  type ProfileEnvironment,
  type ProfileKind,
  type ProfileView,
} from '../../../src-main/contract/connection-channels.js';
import { useStrata } from '../../store/store.js';
import { FORM_TEST, type ProfileDraft } from './connections-slice.js';
import { TestResult } from './test-result.js';

/** The form's fields as typed. */
export interface FormValues {
  name: string;
  kind: ProfileKind;
  environment: ProfileEnvironment;
  target: string;
  user: string;
  password: string;
  operator: string;
}

/** Field -> message, for the fields that are not acceptable yet. */
export type FormErrors = Partial<Record<keyof FormValues, string>>;

/** The form's starting values: a profile being edited, or a new one. */
export function initialValues(profile: ProfileView | null): FormValues {
  return {
    name: profile?.name ?? '',
    kind: profile?.kind ?? 'postgres',
    environment: profile?.environment ?? 'development',
    target: profile?.target ?? '',
    user: profile?.user ?? '',
    password: '',
    operator: profile?.operator ?? '',
  };
}

/** True when a URL carries a password (user:password@ or ?password=). */
export function urlHasPassword(url: string): boolean {
  try {
    const u = new URL(url.trim());
    return u.password !== '' || u.searchParams.has('password');
  } catch {
    return /\/\/[^/@]*:[^/@]*@/.test(url);
  }
}

/** The messages shown inline before saving (main checks again). */
export function validateForm(v: FormValues): FormErrors {
  const errors: FormErrors = {};
  if (v.name.trim() === '') errors.name = 'Give the connection a name.';
  else if (v.name.trim().length > 100) errors.name = 'At most 100 characters.';
  const target = v.target.trim();
  if (v.kind === 'postgres') {
    if (target === '') errors.target = 'Give the database URL, e.g. postgres://db.example/strata.';
    else if (!/^postgres(ql)?:\/\//i.test(target))
      errors.target = 'The URL must start with postgres:// or postgresql://.';
    else {
      try {
        new URL(target);
      } catch {
        errors.target = 'This URL cannot be read; write it like postgres://db.example/strata.';
      }
    }
  } else if (target === '') errors.target = 'Give the path of the draft workspace file.';
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target))
    errors.target = 'A draft is a .sqlite file; choose PostgreSQL for a database URL.';
  return errors;
}

/** The request that saves the form (an unchanged empty password keeps the stored one). */
export function toDraft(v: FormValues, id: string | null): ProfileDraft {
  return {
    ...(id ? { id } : {}),
    name: v.name.trim(),
    kind: v.kind,
    environment: v.environment,
    target: v.target.trim(),
    user: v.kind === 'postgres' && v.user.trim() ? v.user.trim() : null,
    operator: v.operator.trim() || null,
    ...(v.kind === 'postgres' && v.password !== '' ? { password: v.password } : {}),
  };
}

const ENV_LABEL: Record<ProfileEnvironment, string> = {
  development: 'Development',
  staging: 'Staging',
  production: 'Production',
};

/** The profile form. */
export function ConnectionForm(props: {
  profile: ProfileView | null;
  onDone: () => void;
}): ReactNode {
  const { profile, onDone } = props;
  const vault = useStrata((s) => s.connections?.vault ?? null);
  const save = useStrata((s) => s.saveConnection);
  const test = useStrata((s) => s.testConnection);
  const result = useStrata((s) => s.connectionTests[FORM_TEST]);
  const [values, setValues] = useState<FormValues>(() => initialValues(profile));
  const [touched, setTouched] = useState<Partial<Record<keyof FormValues, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = validateForm(values);
  const shown = (field: keyof FormValues): string | undefined =>
    submitted || touched[field] ? errors[field] : undefined;
  const update = (field: keyof FormValues, value: string): void => {
    setValues((v) => ({ ...v, [field]: value }));
    setTouched((t) => ({ ...t, [field]: true }));
    setSaveError(null);
  };
  const postgres = values.kind === 'postgres';
  const inUrl = postgres && urlHasPassword(values.target);

  const onSave = async (): Promise<void> => {
    setSubmitted(true);
    if (Object.keys(errors).length > 0) return;
    setBusy(true);
    const outcome = await save(toDraft(values, profile?.id ?? null));
    setBusy(false);
    if (outcome.ok) onDone();
    else setSaveError(outcome.message);
  };

  const onTest = (): void => {
    setSubmitted(true);
    if (errors.target) return;
    // An edited profile with no new password is tested with the stored one.
    if (profile && !inUrl && values.password === '' && values.target === profile.target) {
      void test(FORM_TEST, { id: profile.id });
      return;
    }
    const { kind, target, user, operator, password } = toDraft(values, null);
    void test(FORM_TEST, {
      profile: { kind, target, user, operator },
      ...(password !== undefined ? { password } : {}),
    });
  };

  return (
    <Box
      component="form"
      aria-label="Connection form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void onSave();
      }}
      sx={{ display: 'flex', flexDirection: 'column', gap: 1.5, pt: 1 }}
    >
      <Typography variant="subtitle1" component="h3">
        {profile ? `Edit ${profile.name}` : 'New connection'}
      </Typography>
      <TextField
        label="Name"
        value={values.name}
        onChange={(e) => update('name', e.target.value)}
        error={!!shown('name')}
        helperText={shown('name') ?? ' '}
        required
      />
      <Stack direction="row" spacing={1}>
        <TextField
          select
          label="Type"
          value={values.kind}
          onChange={(e) => update('kind', e.target.value)}
          slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
          sx={{ flex: 1 }}
        >
          <option value="postgres">PostgreSQL database</option>
          <option value="draft">Draft workspace file</option>
        </TextField>
        <TextField
          select
          label="Environment"
          value={values.environment}
          onChange={(e) => update('environment', e.target.value)}
          slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
          helperText={postgres ? ' ' : 'For a draft: the environment it was pulled from.'}
          sx={{ flex: 1 }}
        >
          {ENVIRONMENT_CHOICES.map((env) => (
            <option key={env} value={env}>
              {ENV_LABEL[env]}
            </option>
          ))}
        </TextField>
      </Stack>
      {values.environment === 'production' ? (
        <Alert severity="error" variant="outlined">
          PRODUCTION: opening this connection asks for confirmation, and changes reach live systems.
        </Alert>
      ) : null}
      <TextField
        label={postgres ? 'Database URL' : 'Draft file path'}
        value={values.target}
        onChange={(e) => update('target', e.target.value)}
        error={!!shown('target')}
        helperText={
          shown('target') ??
          (inUrl
            ? 'The password in this URL is moved to the password store when saved; the profile keeps the URL without it.'
            : postgres
              ? 'e.g. postgres://db.example:5432/strata (no password here)'
              : 'e.g. /home/admin/drafts/production.sqlite')
        }
        required
      />
      {postgres ? (
        <Stack direction="row" spacing={1}>
          <TextField
            label="Database user"
            value={values.user}
            onChange={(e) => update('user', e.target.value)}
            helperText="Empty: the user in the URL, or PGUSER"
            sx={{ flex: 1 }}
          />
          <TextField
            label="Password"
            type="password"
            autoComplete="off"
            value={values.password}
            onChange={(e) => update('password', e.target.value)}
            helperText={
              profile?.hasPassword && values.password === ''
                ? 'A password is stored; leave empty to keep it.'
                : (vault?.note ?? ' ')
            }
            sx={{ flex: 1 }}
          />
        </Stack>
      ) : null}
      <TextField
        label="Act as (directory user id)"
        value={values.operator}
        onChange={(e) => update('operator', e.target.value)}
        helperText="Empty: the user the database role maps to"
      />
      {saveError ? (
        <Alert severity="error" role="alert">
          {saveError}
        </Alert>
      ) : null}
      <TestResult result={result} label="Test result" />
      <Stack direction="row" spacing={1} sx={{ justifyContent: 'flex-end' }}>
        <Button onClick={onDone}>Cancel</Button>
        <Button variant="outlined" onClick={onTest} disabled={result === 'testing'}>
          Test
        </Button>
        <Button type="submit" variant="contained" disabled={busy}>
          Save
        </Button>
      </Stack>
    </Box>
  );
}
