/** The store's replay protection in memory, for tests of the channel endpoints that are not about restarts. */
import type { UsedSignatureRepository } from '../../src/store/types';

export function memoryUsedSignatures(): UsedSignatureRepository {
  const seen = new Map<string, Date>();
  return {
    async firstUse(signature, expiresAt) {
      for (const [key, until] of seen) if (until.getTime() < Date.now()) seen.delete(key);
      if (seen.has(signature)) return false;
      seen.set(signature, expiresAt);
      return true;
    },
  };
}
