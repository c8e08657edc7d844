import { expect, it } from 'vitest';
import { closest, editDistance } from '../../src/diagnostics/suggest.ts';

it('counts a transposition as one edit', () => {
  expect(editDistance('promtps', 'prompts')).toBe(1);
  expect(editDistance('kitten', 'sitting')).toBe(3);
});

it('suggests only plausible typos', () => {
  expect(closest('Agnet', ['Agent', 'Prompt'])).toBe('Agent');
  expect(closest('medium', ['Low', 'Medium', 'High'])).toBe('Medium');
  expect(closest('aerospace', ['pharmaceuticals', 'biotech'])).toBeUndefined();
});
