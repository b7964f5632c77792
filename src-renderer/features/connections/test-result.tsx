/** The outcome of a connection test, as one status line (OK, or why not). */
import Alert from '@mui/material/Alert';
import LinearProgress from '@mui/material/LinearProgress';
import type { ReactNode } from 'react';
import type { ConnectionTestResult } from '../../../src-main/contract/connection-channels.js';

const TITLE: Record<ConnectionTestResult['status'], string> = {
  ok: 'OK',
  unreachable: 'Unreachable',
  auth_failed: 'Authentication failed',
  not_migrated: 'Not migrated',
  missing_file: 'Missing file',
  no_operator: 'Unknown operator',
  failed: 'Failed',
};

/** Shows a test result (nothing before the first test). */
export function TestResult(props: {
  result: ConnectionTestResult | 'testing' | undefined;
  label: string;
}): ReactNode {
  const { result, label } = props;
  if (result === undefined) return null;
  if (result === 'testing') return <LinearProgress aria-label={`${label}: testing`} />;
  return (
    <Alert
      severity={result.ok ? 'success' : 'error'}
      role="status"
      aria-label={label}
      data-status={result.status}
    >
      <strong>{TITLE[result.status]}</strong>: {result.message}
    </Alert>
  );
}
