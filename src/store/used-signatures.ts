/** Replay protection for signed requests: each signature is accepted once, across servers and restarts. */
import { sql, type Kysely } from 'kysely';
import type { StoreDatabase } from './schema';
import type { UsedSignatureRepository } from './types';

export function usedSignatureRepository(db: Kysely<StoreDatabase>): UsedSignatureRepository {
  return {
    async firstUse(signature, expiresAt) {
      await db.deleteFrom('used_signatures').where('expires_at', '<', sql<Date>`now()`).execute();
      const inserted = await db
        .insertInto('used_signatures')
        .values({ signature, expires_at: expiresAt })
        .onConflict((oc) => oc.column('signature').doNothing())
        .returning('signature')
        .executeTakeFirst();
      return inserted !== undefined;
    },
  };
}
