/**
 * Level editor: the keys of the selected slot grouped by category in collapsible sections, each
 * with a form generated from configuration_metadata. Long sections are virtualised and closed
 * sections are not mounted, so a slot with hundreds of keys stays light.
 *
 * Speed: switching slots keeps the previous slot's rows mounted (dimmed, inert) until the new
 * slot arrives, so React patches rows in place instead of tearing down and rebuilding every
 * section; sections are plain disclosure headings rather than MUI Accordions; the key filter is
 * deferred, so typing stays responsive while the list catches up.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import FormControlLabel from '@mui/material/FormControlLabel';
import LinearProgress from '@mui/material/LinearProgress';
import Stack from '@mui/material/Stack';
import Switch from '@mui/material/Switch';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import Button from '@mui/material/Button';
import {
  memo,
  useDeferredValue,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import type { SlotView } from '../../src-main/contract/contract.js';
import { isValidKey } from '../../src-main/core/keys.js';
import {
  VALUE_TYPES,
  type Directory,
  type Level,
  type ValueType,
} from '../../src-main/core/types.js';
import { groupByCategory, labelFor, levelName, sectionTitle, type Section } from '../lib/forms.js';
import { useStrata } from '../store/store.js';
import { KeyRow } from './key-row.js';
import { afterPaint, VirtualList } from './virtual-list.js';

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
  const title = levelName(level);
  return name ? `${title} ${name} (${scope})` : `${title} ${scope}`;
}

// One styled element per section header (the heading); its parts are styled from here.
const HEADER_SX = {
  m: 0,
  fontSize: 'inherit',
  '& > button': {
    all: 'unset',
    boxSizing: 'border-box',
    display: 'flex',
    alignItems: 'center',
    width: '100%',
    minHeight: 48,
    px: 2,
    cursor: 'pointer',
    '&:hover': { bgcolor: 'action.hover' },
    '&:focus-visible': { outline: 2, outlineColor: 'primary.main', outlineOffset: -2 },
  },
  '& .section-title': { fontWeight: 600, mr: 2 },
  '& .section-count': { typography: 'body2', color: 'text.secondary', flex: 1 },
} as const;

function SectionPanelView({ section, open }: { section: Section; open: boolean }): ReactNode {
  const setSectionOpen = useStrata((s) => s.setSectionOpen);
  const setHere = section.items.filter((i) => i.entry).length;
  const bodyId = `section-${section.category}`;
  return (
    <Box sx={{ borderBottom: 1, borderColor: 'divider' }}>
      <Box component="h3" sx={HEADER_SX}>
        <button
          type="button"
          aria-expanded={open}
          aria-controls={bodyId}
          onClick={() => setSectionOpen(section.category, !open)}
        >
          <span className="section-title">{sectionTitle(section.category)}</span>
          <span className="section-count">
            {section.items.length} key{section.items.length === 1 ? '' : 's'}
            {setHere ? `, ${setHere} set here` : ''}
          </span>
          <span aria-hidden="true">{open ? '▴' : '▾'}</span>
        </button>
      </Box>
      {open ? (
        <Box id={bodyId} sx={{ px: 2, pb: 2 }}>
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
        </Box>
      ) : null}
    </Box>
  );
}

/** Same section when its items are the same objects (items are shared between slot loads). */
function sameSection(
  a: { section: Section; open: boolean },
  b: { section: Section; open: boolean },
): boolean {
  if (a.open !== b.open || a.section.category !== b.section.category) return false;
  const x = a.section.items;
  const y = b.section.items;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const SectionPanel = memo(SectionPanelView, sameSection);

/**
 * The slot to show: the loaded one, else (while the next one loads) the one shown last, so its
 * rows stay mounted and are patched in place when the new slot arrives.
 */
function useShownSlot(slot: SlotView | null, loading: boolean): SlotView | null {
  const last = useRef<SlotView | null>(null);
  if (slot !== null) last.current = slot;
  else if (!loading) last.current = null;
  return slot ?? last.current;
}

/**
 * Search text per slot item (key and label, lower case), computed once per slot while a filter
 * is typed; null when there is no filter.
 */
function useSearchText(
  slot: SlotView | null,
  metaByKey: Parameters<typeof groupByCategory>[1],
  filtering: boolean,
): Map<string, string> | null {
  return useMemo(() => {
    if (!filtering) return null;
    const text = new Map<string, string>();
    for (const i of slot?.items ?? []) {
      text.set(i.key, `${i.key}\n${labelFor(i.key, metaByKey[i.key])}`.toLowerCase());
    }
    return text;
  }, [slot, metaByKey, filtering]);
}

/** A form to set a key this slot does not list yet (memoised: it has no props). */
const AddKey = memo(function AddKey(): ReactNode {
  const addKey = useStrata((s) => s.addKey);
  const reason = useStrata((s) => s.changeReason);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [valueType, setValueType] = useState<ValueType>('string');
  const trimmed = key.trim();
  // A boolean, not the slot: loading another slot must not re-render this form.
  const listed = useStrata(
    (s) => trimmed !== '' && (s.slot?.items.some((i) => i.key === trimmed) ?? false),
  );
  const keyError =
    trimmed === ''
      ? null
      : !isValidKey(trimmed)
        ? 'Use letters, digits, _ and -, with dots between parts (e.g. fax.backend.provider).'
        : listed
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
});

/** Filter, reason and "only set here": memoised so slot changes do not re-render its fields. */
const EditorToolbar = memo(function EditorToolbar(): ReactNode {
  const keyFilter = useStrata((s) => s.keyFilter);
  const setKeyFilter = useStrata((s) => s.setKeyFilter);
  const onlySetHere = useStrata((s) => s.onlySetHere);
  const setOnlySetHere = useStrata((s) => s.setOnlySetHere);
  const changeReason = useStrata((s) => s.changeReason);
  const setChangeReason = useStrata((s) => s.setChangeReason);
  return (
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
  );
});

/** The Level editor landmark. */
export function LevelEditor(): ReactNode {
  const selected = useStrata((s) => s.selected);
  const directory = useStrata((s) => s.directory);
  const slot = useStrata((s) => s.slot);
  const slotStatus = useStrata((s) => s.slotStatus);
  const slotError = useStrata((s) => s.slotError);
  const metaByKey = useStrata((s) => s.metaByKey);
  const keyFilter = useStrata((s) => s.keyFilter);
  const onlySetHere = useStrata((s) => s.onlySetHere);
  const openSections = useStrata((s) => s.openSections);
  const shown = useShownSlot(slot, slotStatus === 'loading');
  const stale = shown !== null && shown !== slot;
  // Typing updates the field at once; the filtered sections follow as a deferred render.
  const q = useDeferredValue(keyFilter).trim().toLowerCase();
  const searchText = useSearchText(shown, metaByKey, q !== '');

  const sections = useMemo(() => {
    if (!shown) return [];
    const items =
      !searchText && !onlySetHere
        ? shown.items
        : shown.items.filter(
            (i) => (!onlySetHere || i.entry) && (!searchText || searchText.get(i.key)!.includes(q)),
          );
    return groupByCategory(items, metaByKey);
  }, [shown, q, onlySetHere, metaByKey, searchText]);
  const total = sections.reduce((n, s) => n + s.items.length, 0);
  // Small slots open every section; big ones open only the first until asked.
  const defaultOpen = (index: number): boolean => total <= 60 || index === 0;

  // A performance mark once a tenant's keys are on screen (after the frame that paints them).
  const painted = slot !== null && slotStatus === 'ready' ? slot : null;
  useLayoutEffect(() => {
    if (painted === null || painted.level !== 'tenant') return;
    return afterPaint(() =>
      performance.mark('strata:tenant-keys-shown', { detail: { scope: painted.scope } }),
    );
  }, [painted]);

  return (
    <Box
      component="section"
      aria-label="Level editor"
      sx={{ display: 'flex', flexDirection: 'column', gap: 1, p: 1, minHeight: 0, height: '100%' }}
    >
      <Typography variant="h5" component="h2">
        {slotTitle(selected.level, selected.scope, directory)}
      </Typography>
      <EditorToolbar />
      <AddKey />
      {slotStatus === 'loading' ? <LinearProgress aria-label="Loading keys" /> : null}
      {slotError ? <Alert severity="error">{slotError}</Alert> : null}
      <Box
        aria-busy={stale || undefined}
        inert={stale || undefined}
        sx={{ overflow: 'auto', flex: 1, minHeight: 0, opacity: stale ? 0.5 : 1 }}
      >
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
