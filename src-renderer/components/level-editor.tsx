/**
 * Level editor: the keys of the selected slot grouped by category in collapsible sections, each
 * with a form generated from configuration_metadata. Long sections are virtualised and closed
 * sections are not mounted, so a slot with hundreds of keys stays light.
 */
import Accordion from '@mui/material/Accordion';
import AccordionDetails from '@mui/material/AccordionDetails';
import AccordionSummary from '@mui/material/AccordionSummary';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import FormControlLabel from '@mui/material/FormControlLabel';
import LinearProgress from '@mui/material/LinearProgress';
import Stack from '@mui/material/Stack';
import Switch from '@mui/material/Switch';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import Button from '@mui/material/Button';
import { useMemo, useState, type ReactNode } from 'react';
import { isValidKey } from '../../src-main/core/keys.js';
import {
  VALUE_TYPES,
  type Directory,
  type Level,
  type ValueType,
} from '../../src-main/core/types.js';
import { groupByCategory, labelFor, sectionTitle, type Section } from '../lib/forms.js';
import { useStrata } from '../store/store.js';
import { KeyRow } from './key-row.js';
import { VirtualList } from './virtual-list.js';

/** A heading for a slot: "Department Medical (mercy_hospital/medical)". */
export function slotTitle(level: Level, scope: string, dir: Directory | null): string {
  if (level === 'global') return 'Global';
  let name: string | undefined;
  if (level === 'tenant') name = dir?.tenants.find((t) => t.id === scope)?.name;
  if (level === 'department') {
    const [tenantId, id] = [
      scope.slice(0, scope.indexOf('/')),
      scope.slice(scope.indexOf('/') + 1),
    ];
    name = dir?.departments.find((d) => d.tenantId === tenantId && d.id === id)?.name;
  }
  if (level === 'group') name = dir?.groups.find((g) => g.id === scope)?.name;
  if (level === 'user') name = dir?.users.find((u) => u.id === scope)?.displayName ?? undefined;
  const levelName = level[0]!.toUpperCase() + level.slice(1);
  return name ? `${levelName} ${name} (${scope})` : `${levelName} ${scope}`;
}

function SectionPanel({ section, open }: { section: Section; open: boolean }): ReactNode {
  const setSectionOpen = useStrata((s) => s.setSectionOpen);
  const setHere = section.items.filter((i) => i.entry).length;
  return (
    <Accordion
      expanded={open}
      onChange={(_e, expanded) => setSectionOpen(section.category, expanded)}
      disableGutters
      slotProps={{ transition: { unmountOnExit: true } }}
    >
      <AccordionSummary
        expandIcon={<span aria-hidden="true">▾</span>}
        aria-controls={`section-${section.category}`}
      >
        <Typography component="h3" sx={{ fontWeight: 600, mr: 2 }}>
          {sectionTitle(section.category)}
        </Typography>
        <Typography variant="body2" color="text.secondary">
          {section.items.length} key{section.items.length === 1 ? '' : 's'}
          {setHere ? `, ${setHere} set here` : ''}
        </Typography>
      </AccordionSummary>
      <AccordionDetails id={`section-${section.category}`}>
        {section.items.length <= 40 ? (
          <Stack spacing={1}>
            {section.items.map((item) => (
              <KeyRow key={item.key} item={item} />
            ))}
          </Stack>
        ) : (
          <VirtualList
            items={section.items}
            estimateSize={180}
            height={640}
            threshold={0}
            getKey={(i) => i.key}
            renderItem={(item) => (
              <Box sx={{ pb: 1 }}>
                <KeyRow item={item} />
              </Box>
            )}
          />
        )}
      </AccordionDetails>
    </Accordion>
  );
}

/** A form to set a key this slot does not list yet. */
function AddKey(): ReactNode {
  const addKey = useStrata((s) => s.addKey);
  const reason = useStrata((s) => s.changeReason);
  const slot = useStrata((s) => s.slot);
  const listed = useMemo(() => new Set(slot?.items.map((i) => i.key)), [slot]);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [valueType, setValueType] = useState<ValueType>('string');
  const trimmed = key.trim();
  const keyError =
    trimmed === ''
      ? null
      : !isValidKey(trimmed)
        ? 'Use letters, digits, _ and -, with dots between parts (e.g. fax.backend.provider).'
        : listed.has(trimmed)
          ? 'This key is already listed below; edit it there.'
          : null;
  return (
    <Stack
      component="form"
      direction="row"
      spacing={1}
      aria-label="Add a key"
      sx={{ alignItems: 'flex-start', flexWrap: 'wrap', rowGap: 1 }}
      onSubmit={(e) => {
        e.preventDefault();
        if (!trimmed || keyError) return;
        void addKey(trimmed, value, valueType, reason.trim() || null).then((ok) => {
          if (ok) {
            setKey('');
            setValue('');
          }
        });
      }}
    >
      <TextField
        label="New key"
        value={key}
        onChange={(e) => setKey(e.target.value)}
        error={!!keyError}
        helperText={keyError}
        sx={{ minWidth: 220 }}
        slotProps={{ htmlInput: { maxLength: 200, spellCheck: false } }}
      />
      <TextField
        label="Value"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        sx={{ minWidth: 180, flex: 1 }}
      />
      <TextField
        select
        label="Type"
        value={valueType}
        onChange={(e) => setValueType(e.target.value as ValueType)}
        slotProps={{ select: { native: true }, inputLabel: { shrink: true } }}
      >
        {VALUE_TYPES.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </TextField>
      <Button type="submit" variant="outlined" disabled={!trimmed || !!keyError}>
        Add key
      </Button>
    </Stack>
  );
}

/** The Level editor landmark. */
export function LevelEditor(): ReactNode {
  const selected = useStrata((s) => s.selected);
  const directory = useStrata((s) => s.directory);
  const slot = useStrata((s) => s.slot);
  const slotStatus = useStrata((s) => s.slotStatus);
  const slotError = useStrata((s) => s.slotError);
  const metaByKey = useStrata((s) => s.metaByKey);
  const keyFilter = useStrata((s) => s.keyFilter);
  const setKeyFilter = useStrata((s) => s.setKeyFilter);
  const onlySetHere = useStrata((s) => s.onlySetHere);
  const setOnlySetHere = useStrata((s) => s.setOnlySetHere);
  const changeReason = useStrata((s) => s.changeReason);
  const setChangeReason = useStrata((s) => s.setChangeReason);
  const openSections = useStrata((s) => s.openSections);

  const sections = useMemo(() => {
    if (!slot) return [];
    const q = keyFilter.trim().toLowerCase();
    const items = slot.items.filter(
      (i) =>
        (!onlySetHere || i.entry) &&
        (!q ||
          i.key.toLowerCase().includes(q) ||
          labelFor(i.key, metaByKey[i.key]).toLowerCase().includes(q)),
    );
    return groupByCategory(items, metaByKey);
  }, [slot, keyFilter, onlySetHere, metaByKey]);
  const total = sections.reduce((n, s) => n + s.items.length, 0);
  // Small slots open every section; big ones open only the first until asked.
  const defaultOpen = (index: number): boolean => total <= 60 || index === 0;

  return (
    <Box
      component="section"
      aria-label="Level editor"
      sx={{ display: 'flex', flexDirection: 'column', gap: 1, p: 1, minHeight: 0, height: '100%' }}
    >
      <Typography variant="h5" component="h2">
        {slotTitle(selected.level, selected.scope, directory)}
      </Typography>
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center', flexWrap: 'wrap' }}>
        <TextField
          label="Filter keys"
          value={keyFilter}
          onChange={(e) => setKeyFilter(e.target.value)}
          sx={{ minWidth: 220 }}
        />
        <TextField
          label="Reason for changes"
          value={changeReason}
          onChange={(e) => setChangeReason(e.target.value)}
          sx={{ minWidth: 260, flex: 1 }}
          slotProps={{ htmlInput: { maxLength: 1000 } }}
        />
        <FormControlLabel
          control={
            <Switch checked={onlySetHere} onChange={(e) => setOnlySetHere(e.target.checked)} />
          }
          label="Only keys set here"
        />
      </Stack>
      <AddKey />
      {slotStatus === 'loading' ? <LinearProgress aria-label="Loading keys" /> : null}
      {slotError ? <Alert severity="error">{slotError}</Alert> : null}
      <Box sx={{ overflow: 'auto', flex: 1, minHeight: 0 }}>
        {slot && sections.length === 0 ? (
          <Typography color="text.secondary" sx={{ p: 2 }}>
            {keyFilter || onlySetHere ? 'No keys match.' : 'No keys yet.'}
          </Typography>
        ) : null}
        {sections.map((section, index) => (
          <SectionPanel
            key={section.category}
            section={section}
            open={openSections[section.category] ?? defaultOpen(index)}
          />
        ))}
      </Box>
    </Box>
  );
}
