/**
 * Display masking for secret values. The mask has a fixed length so it leaks nothing about the
 * secret, not even whether it is empty.
 */

/** What a secret value looks like wherever it is shown without an explicit reveal. */
export const MASK = '••••••••';

/** Masks a value for display; null (nothing set) stays null so "unset" remains visible. */
export function maskValue(v: string | null): string | null {
  // undefined from a loosely typed caller is treated as unset, never shown.
  return v === null || v === undefined ? null : MASK;
}
