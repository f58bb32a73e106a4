import { expect } from 'vitest';
import type { Reply } from './client.ts';

/** `{"error": {"code", "message", "details"?}}` and nothing else; returns the named fields. */
export function expectErrorBody(res: Reply, status?: number, label = ''): string[] {
  const where = `${label} -> ${res.status} ${res.text.slice(0, 300)}`;
  if (status !== undefined) expect(res.status, where).toBe(status);
  expect(res.status, where).toBeGreaterThanOrEqual(400);
  expect(res.status, where).toBeLessThan(500);
  expect(res.headers.get('content-type'), where).toMatch(/^application\/json/);
  expect(Object.keys(res.body ?? {}), where).toEqual(['error']);
  const { error } = res.body;
  expect(
    Object.keys(error).every((k) => ['code', 'message', 'details'].includes(k)),
    where,
  ).toBe(true);
  expect(error.code, where).toMatch(/^[a-z]+(_[a-z]+)*$/);
  expect(typeof error.message, where).toBe('string');
  expect(error.message.length, where).toBeGreaterThan(0);
  if (res.status !== 422) return [];
  expect(error.code, where).toBe('validation_failed');
  expect(Array.isArray(error.details), where).toBe(true);
  for (const d of error.details) {
    expect(typeof d.field, where).toBe('string');
    expect(typeof d.message, where).toBe('string');
  }
  return error.details.map((d: { field: string }) => d.field);
}
