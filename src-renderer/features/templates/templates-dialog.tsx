/**
 * The Templates dialog: four tabs: apply a template (the wizard), a new tenant (the tenant
 * wizard), template upgrades and bulk edit. Loaded on first use (see templates-launcher.tsx).
 */
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Dialog from '@mui/material/Dialog';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import type { ReactNode } from 'react';
import { useStrata } from '../../store/store.js';
import { BulkEdit } from './bulk-edit.js';
import { TemplateWizard } from './template-wizard.js';
import type { TemplatesTab } from './templates-slice.js';
import { TenantWizard } from './tenant-wizard.js';
import { UpgradesView } from './upgrades-view.js';

const TABS: Array<{ value: TemplatesTab; label: string }> = [
  { value: 'apply', label: 'Apply a template' },
  { value: 'tenant', label: 'New tenant' },
  { value: 'upgrades', label: 'Upgrades' },
  { value: 'bulk', label: 'Bulk edit' },
];

/** The Templates dialog. */
export function TemplatesDialog(): ReactNode {
  const open = useStrata((s) => s.templatesOpen);
  const tab = useStrata((s) => s.templatesTab);
  const status = useStrata((s) => s.templateListStatus);
  const close = useStrata((s) => s.closeTemplates);
  const setTab = useStrata((s) => s.setTemplatesTab);
  return (
    <Dialog
      open={open}
      onClose={close}
      fullWidth
      maxWidth="xl"
      aria-labelledby="strata-templates-title"
    >
      <DialogTitle
        id="strata-templates-title"
        sx={{ display: 'flex', alignItems: 'center', gap: 2 }}
      >
        Templates
        <Box sx={{ flex: 1 }} />
        <Button onClick={close}>Close</Button>
      </DialogTitle>
      <Tabs
        value={tab}
        onChange={(_e, v: TemplatesTab) => setTab(v)}
        aria-label="Template tools"
        sx={{ px: 3 }}
      >
        {TABS.map((t) => (
          <Tab key={t.value} value={t.value} label={t.label} />
        ))}
      </Tabs>
      <DialogContent sx={{ minHeight: 480 }}>
        {status === 'loading' || status === 'idle' ? (
          <CircularProgress size={20} aria-label="Loading templates" />
        ) : null}
        {status === 'ready' ? (
          <Box sx={{ pt: 2 }}>
            {tab === 'apply' ? <TemplateWizard /> : null}
            {tab === 'tenant' ? <TenantWizard /> : null}
            {tab === 'upgrades' ? <UpgradesView /> : null}
            {tab === 'bulk' ? <BulkEdit /> : null}
          </Box>
        ) : null}
      </DialogContent>
    </Dialog>
  );
}
