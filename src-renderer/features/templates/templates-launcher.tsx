/**
 * The Templates entry in the top bar: a button, and the dialog it opens. The dialog and its
 * wizards are loaded on first use, so the console's first paint does not pay for them.
 */
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import { lazy, Suspense, type ReactNode } from 'react';
import { useStrata } from '../../store/store.js';

const TemplatesDialog = lazy(async () => ({
  default: (await import('./templates-dialog.js')).TemplatesDialog,
}));

/** The top-bar button and the dialog it opens. */
export function TemplatesLauncher(): ReactNode {
  const open = useStrata((s) => s.templatesOpen);
  const openTemplates = useStrata((s) => s.openTemplates);
  return (
    <>
      <Button color="inherit" onClick={() => void openTemplates()}>
        Templates
      </Button>
      {open ? (
        <Suspense fallback={<CircularProgress size={16} aria-label="Loading templates" />}>
          <TemplatesDialog />
        </Suspense>
      ) : null}
    </>
  );
}
