// @vitest-environment jsdom
/**
 * "Parent changed" notes in the console's plan: the contract mapping of the core planner's
 * parentChanged (values masked for secrets) and the note the Plan view shows under each item.
 */
import { cleanup, configure, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../src-main/contract/contract.js';
import { MASK } from '../../src-main/core/masking.js';
import {
  planChange,
  summarisePlan,
  type PlanChange,
  type PlanInput,
  type PlanRow,
} from '../../src-main/core/plan.js';
import type { Slot } from '../../src-main/core/types.js';
import { contractPlan } from '../../src-main/services/draft-display.js';
import type { DraftPlan } from '../../src-main/services/draft-plan.js';
import { PlanView } from '../../src-renderer/components/plan-view.js';
import { describeParentChange } from '../../src-renderer/lib/plan.js';
import { createStrataStore, StoreProvider } from '../../src-renderer/store/store.js';

configure({ defaultHidden: true, asyncUtilTimeout: 5000 });
afterEach(() => cleanup());

function row(value: string, version: number, encrypted = false): PlanRow {
  return { value, valueType: 'string', encrypted, locked: false, version };
}

function change(slot: Slot, value: string, baseVersion: number): PlanChange {
  return {
    ...slot,
    id: `c-${slot.key}`,
    action: 'set',
    value,
    valueType: 'string',
    encrypted: false,
    locked: false,
    baseVersion,
    reason: null,
    author: 'alice',
  };
}

/** A dept-level change whose tenant value moved from base to live. */
function itemFor(key: string, parentBase: PlanRow | null, parentLive: PlanRow | null) {
  const slot: Slot = { level: 'department', scope: 'mercy/icu', key };
  const parent: Slot = { level: 'tenant', scope: 'mercy', key };
  const same = (a: Slot, b: Slot): boolean =>
    a.level === b.level && a.scope === b.scope && a.key === b.key;
  const input: PlanInput = {
    changes: [],
    fresh: false,
    base: (s) => (same(s, slot) ? row('old', 1) : same(s, parent) ? parentBase : null),
    live: (s) => (same(s, slot) ? row('old', 1) : same(s, parent) ? parentLive : null),
    resolution: () => null,
    parents: (s) => (same(s, slot) ? [parent] : []),
  };
  return planChange(input, change(slot, 'new', 1));
}

function draftPlan(items: ReturnType<typeof itemFor>[]): DraftPlan {
  const empty = { tenants: [], departments: [], groups: [], users: [] };
  return {
    id: 'p1',
    draft: 'draft.sqlite',
    target: 'postgres://admin@db.example/strata',
    environment: 'production',
    fresh: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    items,
    directory: [],
    metadata: [],
    summary: summarisePlan(items),
    directorySummary: { create: 0, update: 0, noop: 0, conflicts: 0, unresolved: 0 },
    liveDirectory: empty,
    directoryAfter: empty,
    draftMetadata: [],
  } as DraftPlan;
}

describe('contract plan: parentChanged', () => {
  it('carries the moved parent levels, and masks them for secrets', () => {
    const plan = contractPlan(
      draftPlan([
        itemFor('ui.theme', row('light', 1), row('dark', 2)),
        itemFor('providers.x.api_key', row('enc:v1:aaa', 1, true), row('enc:v1:bbb', 2, true)),
        itemFor('ui.language', row('en', 1), row('en', 1)),
      ]),
      'p1',
    );
    const [theme, secret, language] = plan.items;
    expect(theme!.parentChanged).toEqual([
      { level: 'tenant', scope: 'mercy', base: 'light', theirs: 'dark' },
    ]);
    expect(secret!.parentChanged).toEqual([
      { level: 'tenant', scope: 'mercy', base: MASK, theirs: MASK },
    ]);
    expect(JSON.stringify(plan)).not.toContain('enc:v1:');
    expect(language!.parentChanged).toEqual([]);
  });

  it('reports a parent created or removed since the pull as (not set)', () => {
    const plan = contractPlan(draftPlan([itemFor('ui.theme', null, row('dark', 1))]), 'p1');
    expect(plan.items[0]!.parentChanged).toEqual([
      { level: 'tenant', scope: 'mercy', base: null, theirs: 'dark' },
    ]);
  });
});

describe('Plan view: parent changed notes', () => {
  it('formats the note with the environment and old -> new', () => {
    expect(
      describeParentChange(
        { level: 'tenant', scope: 'mercy', base: 'light', theirs: 'dark' },
        'production',
      ),
    ).toBe('Tenant (mercy) value changed in production since your pull: "light" -> "dark"');
    expect(
      describeParentChange({ level: 'global', scope: '', base: 'a', theirs: null }, null),
    ).toBe('Global value changed in the target since your pull: "a" -> (not set)');
  });

  it('shows a note under each item whose parent moved, never the secret', () => {
    const plan: Plan = contractPlan(
      draftPlan([
        itemFor('ui.theme', row('light', 1), row('dark', 2)),
        itemFor('providers.x.api_key', row('enc:v1:aaa', 1, true), row('enc:v1:bbb', 2, true)),
        itemFor('ui.language', row('en', 1), row('en', 1)),
      ]),
      'p1',
    );
    const store = createStrataStore(null);
    store.setState({ plan, planOpen: true, planStatus: 'ready' });
    render(
      <StoreProvider store={store}>
        <PlanView />
      </StoreProvider>,
    );
    const theme = screen.getByRole('listitem', { name: 'ui.theme at department mercy/icu' });
    expect(within(theme).getByLabelText('Parent changed for ui.theme').textContent).toContain(
      'Tenant (mercy) value changed in production since your pull: "light" -> "dark"',
    );
    const secret = screen.getByRole('listitem', {
      name: 'providers.x.api_key at department mercy/icu',
    });
    const note = within(secret).getByLabelText('Parent changed for providers.x.api_key');
    expect(note.textContent).toContain(`"${MASK}" -> "${MASK}"`);
    expect(document.body.textContent).not.toContain('enc:v1:');
    const language = screen.getByRole('listitem', { name: 'ui.language at department mercy/icu' });
    expect(within(language).queryByLabelText(/Parent changed/)).toBeNull();
  });
});
