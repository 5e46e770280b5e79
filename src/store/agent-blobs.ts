/** Claim checks of coding sessions (see `AgentBlobRepository`). */
import type { Kysely } from 'kysely';
import type { StoreDatabase } from './schema';
import type { AgentBlobRepository } from './types';

export function agentBlobRepository(db: Kysely<StoreDatabase>): AgentBlobRepository {
  return {
    async putOnce(key, taskId, content) {
      await db.insertInto('agent_blobs').values({ key, task_id: taskId, content }).onConflict((oc) => oc.column('key').doNothing()).execute();
      const row = await db.selectFrom('agent_blobs').select('content').where('key', '=', key).executeTakeFirstOrThrow();
      return row.content;
    },

    async get(key) {
      const row = await db.selectFrom('agent_blobs').select('content').where('key', '=', key).executeTakeFirst();
      return row?.content;
    },
  };
}
