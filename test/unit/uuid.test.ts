import { expect, it } from 'vitest';
import { assetUuid, uuidV5 } from '../../src/resolve/uuid.ts';

it('computes RFC 9562 UUID v5 (the RFC/Python reference value for www.example.com in the DNS namespace)', () => {
  expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
    '2ed6657d-e927-568b-95e1-2665a8aea6a2',
  );
});

it('derives distinct, stable asset ids from kind, tenant and id', () => {
  const platform = assetUuid('Agent', null, 'writer');
  expect(assetUuid('Agent', null, 'writer')).toBe(platform);
  expect(assetUuid('Agent', 'acme', 'writer')).not.toBe(platform);
  expect(assetUuid('Prompt', null, 'writer')).not.toBe(platform);
  expect(platform).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
