import type { Metadata } from '../store/types.js';

/** Display names of the given accounts, looked up once each. */
export async function displayNames(metadata: Metadata, ids: Iterable<string>): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const id of ids) {
    if (names.has(id)) continue;
    const account = await metadata.getAccount(id);
    names.set(id, account?.displayName ?? id);
  }
  return names;
}

/** The Owner element of listings. */
export function ownerElement(id: string, names: ReadonlyMap<string, string>): { ID: string; DisplayName: string } {
  return { ID: id, DisplayName: names.get(id) ?? id };
}
