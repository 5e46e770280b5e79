/** The ADO store: open it with `openStore({ ...storeConfigFromEnv(), logger })`. */
export { openStore, type OpenStoreOptions } from './open-store';
export { storeConfigFromEnv, type StoreConfig } from './config';
export type * from './types';
