/**
 * The typed client's pieces that need no server: SSE framing across arbitrary chunk
 * boundaries, request schema bounds, and the error sentence that names fields without echoing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSseChunk } from '../../src-main/contract/client.js';
import {
  CHANNELS,
  describeIssues,
  isChannel,
  MAX_VALUE_BYTES,
  parseRequest,
  requestSchemas,
} from '../../src-main/contract/contract.js';

describe('parseSseChunk', () => {
  it('reassembles events split at any byte boundary (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (payloads, cuts) => {
          const stream =
            ': connected\n\n' + payloads.map((p) => `data: ${JSON.stringify(p)}\n\n`).join('');
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          const chunks: string[] = [];
          let last = 0;
          for (const p of points) {
            chunks.push(stream.slice(last, p));
            last = p;
          }
          chunks.push(stream.slice(last));
          const seen: unknown[] = [];
          let buffer = '';
          for (const chunk of chunks) {
            const parsed = parseSseChunk(buffer + chunk);
            buffer = parsed.rest;
            seen.push(...parsed.events.map((e) => JSON.parse(e) as unknown));
          }
          expect(seen).toEqual(payloads.map((p) => JSON.parse(JSON.stringify(p)) as unknown));
          expect(buffer).toBe('');
        },
      ),
    );
  });

  it('joins multi-line data and ignores comments', () => {
    expect(parseSseChunk('data: a\ndata: b\n\n: ping\n\ndata: c')).toEqual({
      events: ['a\nb'],
      rest: 'data: c',
    });
  });
});

describe('request schemas', () => {
  it('exist for every channel and refuse unknown fields', () => {
    expect(CHANNELS.length).toBe(Object.keys(requestSchemas).length);
    for (const channel of CHANNELS) {
      expect(isChannel(channel)).toBe(true);
      const answer = parseRequest(channel, { __unexpected__: 1 });
      expect(answer.ok, channel).toBe(false);
    }
    expect(isChannel('toString')).toBe(false);
    expect(isChannel('__proto__')).toBe(false);
  });

  it('bound keys, scopes, values, reasons and arrays', () => {
    const slot = { level: 'tenant', scope: 't', key: 'a.b' };
    expect(parseRequest('config:set', { ...slot, value: 'x' }).ok).toBe(true);
    expect(parseRequest('config:set', { ...slot, key: 'k'.repeat(200), value: 'x' }).ok).toBe(true);
    expect(parseRequest('config:set', { ...slot, key: 'k'.repeat(201), value: 'x' }).ok).toBe(
      false,
    );
    expect(parseRequest('config:set', { ...slot, scope: 's'.repeat(201), value: 'x' }).ok).toBe(
      true,
    );
    expect(parseRequest('config:set', { ...slot, scope: 's'.repeat(202), value: 'x' }).ok).toBe(
      false,
    );
    expect(parseRequest('config:set', { ...slot, value: 'v'.repeat(MAX_VALUE_BYTES) }).ok).toBe(
      true,
    );
    expect(parseRequest('config:set', { ...slot, value: 'v'.repeat(MAX_VALUE_BYTES + 1) }).ok).toBe(
      false,
    );
    // 64 KiB is counted in UTF-8 bytes, not characters.
    const wide = parseRequest('config:set', {
      ...slot,
      value: 'é'.repeat(MAX_VALUE_BYTES / 2 + 1),
    });
    expect(wide).toEqual({
      ok: false,
      error: {
        code: 'invalid',
        message: "Invalid request for config:set: field 'value' is larger than 64 KiB.",
      },
    });
    expect(parseRequest('config:unset', { ...slot, reason: 'r'.repeat(1001) }).ok).toBe(false);
    const groups = (n: number) => ({ context: { tenantId: 't', groups: Array(n).fill('g') } });
    expect(parseRequest('config:effective', groups(100)).ok).toBe(true);
    expect(parseRequest('config:effective', groups(101)).ok).toBe(false);
    expect(parseRequest('draft:discard', { ids: [] }).ok).toBe(false);
    expect(parseRequest('draft:discard', { all: true }).ok).toBe(true);
    expect(parseRequest('audit:list', { limit: 5001 }).ok).toBe(false);
  });

  it('bound the directory history filter and refuse an unknown kind by name', () => {
    expect(parseRequest('audit:directory', {}).ok).toBe(true);
    for (const kind of ['tenant', 'department', 'group', 'user', 'membership']) {
      expect(parseRequest('audit:directory', { kind, ref: 'x', limit: 10 }).ok, kind).toBe(true);
    }
    expect(parseRequest('audit:directory', { kind: 'team' })).toEqual({
      ok: false,
      error: {
        code: 'invalid',
        message:
          "Invalid request for audit:directory: field 'kind' must be one of tenant, department, group, user, membership.",
      },
    });
    // A department's ref is 'tenant/department': two 100-character ids and the slash.
    const dept = `${'t'.repeat(100)}/${'d'.repeat(100)}`;
    expect(parseRequest('audit:directory', { ref: dept }).ok).toBe(true);
    expect(parseRequest('audit:directory', { ref: `${dept}x` }).ok).toBe(false);
    expect(parseRequest('audit:directory', { ref: '' }).ok).toBe(false);
    expect(parseRequest('audit:directory', { changedBy: 'o'.repeat(101) }).ok).toBe(false);
    expect(parseRequest('audit:directory', { limit: 5001 }).ok).toBe(false);
    expect(parseRequest('audit:directory', { limit: 0 }).ok).toBe(false);
    expect(parseRequest('audit:directory', { key: 'ui.theme' }).ok).toBe(false);
  });

  it('accept either context form, but not a mix with unknown fields', () => {
    expect(parseRequest('config:effective', { context: { userId: 'u1' } }).ok).toBe(true);
    expect(
      parseRequest('config:effective', {
        context: { tenantId: 't', department: null, groups: ['g'], userId: null },
      }).ok,
    ).toBe(true);
    expect(parseRequest('config:effective', { context: {} }).ok).toBe(false);
    expect(parseRequest('config:effective', { context: { userId: 'u', role: 'x' } }).ok).toBe(
      false,
    );
  });

  it('describe failures by field without the input (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.constantFrom(...CHANNELS), (junk, channel) => {
        const marker = `ZZ${junk}`;
        const result = requestSchemas[channel].safeParse({ [marker]: marker, level: marker });
        if (result.success) return;
        const message = describeIssues(channel, result.error);
        expect(message.startsWith(`Invalid request for ${channel}`)).toBe(true);
        expect(message).not.toContain(marker);
      }),
    );
  });
});
