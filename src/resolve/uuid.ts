import { createHash } from 'node:crypto';

/** Canon's UUID v5 namespace. Changing it would change every derived id, so it is fixed forever. */
export const canonNamespace = '3f0c6d2e-8a1b-5c4d-9e7f-1a2b3c4d5e6f';

function bytesOf(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** RFC 9562 UUID version 5 (SHA-1, name-based). */
export function uuidV5(name: string, namespace: string = canonNamespace): string {
  const hash = createHash('sha1').update(bytesOf(namespace)).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The database id of an asset: deterministic, so the same YAML always maps to the same row. */
export const assetUuid = (kind: string, tenant: string | null, id: string) => uuidV5(`${kind}/${tenant ?? ''}/${id}`);
