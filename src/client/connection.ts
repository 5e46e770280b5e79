/**
 * Connection settings follow Temporal's own conventions (`@temporalio/envconfig`): the
 * TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_* variables and
 * profiles from the Temporal config file (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE). So the same
 * CLI and workers drive the embedded server, a self-hosted cluster or Temporal Cloud. When none
 * of that names an address, a running `ado dev` stack (recorded in ADO home) is used, and
 * otherwise localhost:7233.
 */
import { readFileSync } from 'node:fs';
import { Client, Connection, type ClientInterceptors, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { adoHome, adoPaths } from '../config/paths';
import { TemporalUnreachableError } from './errors';

const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';

export interface TemporalSettings {
  address: string;
  namespace: string;
  tls?: ConnectionOptions['tls'];
  apiKey?: string;
  metadata?: ConnectionOptions['metadata'];
  /** Where the address came from, for messages. */
  source: 'flag' | 'environment' | 'ado dev' | 'default';
}

/** What `ado dev` records so that commands in other terminals find its stack. */
export interface StackInfo {
  pid: number;
  address: string;
  namespace: string;
  uiUrl?: string;
  apiUrl?: string;
  metricsUrl?: string;
  codecUrl?: string;
  queuePrefix?: string;
}

export function readStackInfo(env: NodeJS.ProcessEnv = process.env): StackInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(adoPaths(adoHome(env)).stackFile, 'utf8')) as StackInfo;
    process.kill(info.pid, 0); // still running?
    return info;
  } catch {
    return undefined;
  }
}

/** Resolves where to connect: flag, then Temporal's env/profile settings, then `ado dev`, then the default. */
export function temporalSettings(options: { address?: string; namespace?: string; env?: NodeJS.ProcessEnv } = {}): TemporalSettings {
  const env = options.env ?? process.env;
  const loaded = loadClientConnectConfig({ overrideEnvVars: definedOnly(env) });
  const fromTemporal = loaded.connectionOptions;
  const stack = fromTemporal.address || options.address ? undefined : readStackInfo(env);
  const address = options.address ?? fromTemporal.address ?? stack?.address ?? DEFAULT_TEMPORAL_ADDRESS;
  const source: TemporalSettings['source'] = options.address
    ? 'flag'
    : fromTemporal.address
      ? 'environment'
      : stack
        ? 'ado dev'
        : 'default';
  return {
    address,
    namespace: options.namespace ?? loaded.namespace ?? stack?.namespace ?? 'default',
    tls: fromTemporal.tls,
    apiKey: typeof fromTemporal.apiKey === 'string' ? fromTemporal.apiKey : undefined,
    metadata: fromTemporal.metadata,
    source,
  };
}

/**
 * A client connected to the configured server; throws `TemporalUnreachableError` when it does not
 * answer. `dataConverter`: the payload codec setup workers use (see `createDataConverter`), so the
 * client can read and write encrypted payloads.
 */
export async function connectClient(
  settings: TemporalSettings,
  options: { connectTimeoutMs?: number; dataConverter?: DataConverter; interceptors?: ClientInterceptors } = {},
): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: settings.address,
      tls: settings.tls,
      apiKey: settings.apiKey,
      metadata: settings.metadata,
      connectTimeout: options.connectTimeoutMs ?? 5000,
    });
  } catch (err) {
    throw new TemporalUnreachableError(settings.address, { cause: err });
  }
  return new Client({ connection, namespace: settings.namespace, dataConverter: options.dataConverter, interceptors: options.interceptors });
}

/** The workers' (Rust core) connection to the same server. */
export async function connectWorkers(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({
      address: settings.address,
      tls: settings.tls,
      apiKey: settings.apiKey,
      metadata: settings.metadata,
    });
  } catch (err) {
    throw new TemporalUnreachableError(settings.address, { cause: err });
  }
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
