/**
 * Loading another slot keeps the previous slot's item objects where nothing changed, so the
 * Level editor's memoised rows re-render only for keys whose values differ.
 */
import { describe, expect, it } from 'vitest';
import type { SlotKeyView, SlotView } from '../../src-main/contract/contract.js';
import { shareSlotItems } from '../../src-renderer/store/slices/editor.js';

function item(key: string, tenantValue: string | null): SlotKeyView {
  return {
    key,
    entry:
      tenantValue === null
        ? null
        : {
            level: 'tenant',
            scope: 't',
            key,
            value: tenantValue,
            valueType: 'string',
            encrypted: false,
            locked: false,
            version: 1,
            updatedAt: '2025-01-01T00:00:00.000Z',
            updatedBy: null,
            staged: false,
          },
    inherited: {
      value: 'g',
      valueType: 'string',
      level: 'global',
      scope: '',
      encrypted: false,
      locked: false,
    },
    lockedAbove: false,
  };
}

function slot(scope: string, items: SlotKeyView[]): SlotView {
  return { level: 'tenant', scope, context: { tenantId: scope, groups: [] }, items };
}

describe('shareSlotItems', () => {
  it('reuses equal items and keeps changed and new ones', () => {
    const before = slot('a', [item('k1', null), item('k2', 'x'), item('k3', null)]);
    const next = slot('b', [item('k1', null), item('k2', 'y'), item('k4', null)]);
    const shared = shareSlotItems(before, next);
    expect(shared).toEqual(next);
    expect(shared.scope).toBe('b');
    expect(shared.items[0]).toBe(before.items[0]);
    expect(shared.items[1]).toBe(next.items[1]);
    expect(shared.items[2]).toBe(next.items[2]);
  });

  it('returns the new slot as is without a previous one', () => {
    const next = slot('b', [item('k1', null)]);
    expect(shareSlotItems(null, next)).toBe(next);
  });
});
