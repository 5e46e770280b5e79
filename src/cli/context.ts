import type { Client } from '@temporalio/client';
import { connectClient, temporalSettings, type TemporalSettings } from '../client/connection';
import { TaskClient } from '../client/task-client';
import { deploymentConfigFromEnv, type DeploymentConfig } from '../config/deployment';
import { adoHome } from '../config/paths';
import { temporalPlumbing, type TemporalPlumbing } from '../client/temporal-plumbing';
import type { Logger } from '../telemetry/logger';

/** What every command shares: connection settings from global flags and the environment. */
export class CliContext {
  private client?: Promise<Client>;
  private shared?: TemporalPlumbing;
  private deploymentConfig?: DeploymentConfig;
  private resolved?: TemporalSettings;
  private log?: Logger;

  constructor(
    private readonly globals: () => { address?: string; namespace?: string },
    /** The process's logger (stderr), or how to make it when a command first needs it. */
    private readonly makeLogger: Logger | (() => Logger),
  ) {}

  /** The process's logger (stderr); the Temporal SDK logs into it too. Made on first use, so `--help` starts none. */
  get logger(): Logger {
    this.log ??= typeof this.makeLogger === 'function' ? this.makeLogger() : this.makeLogger;
    return this.log;
  }

  /** The global flags (`--address`, `--namespace`) as given; known once the command line is parsed. */
  globalOptions(): { address?: string; namespace?: string } {
    return this.globals();
  }

  /** Where and how to reach Temporal; resolved once (flags, environment, profile, `stack.json`). */
  settings(): TemporalSettings {
    this.resolved ??= temporalSettings(this.globals());
    return this.resolved;
  }

  /** This deployment's shared folders and task queue prefix, from the environment; read once. */
  deployment(): DeploymentConfig {
    this.deploymentConfig ??= deploymentConfigFromEnv(process.env, adoHome(process.env));
    return this.deploymentConfig;
  }

  /** The queue prefix of this deployment (ADO_TASK_QUEUE_PREFIX). */
  queuePrefix(): string {
    return this.deployment().taskQueuePrefix;
  }

  /** Payload encryption and tracing, as every client and worker of this process must share them. */
  plumbing(): TemporalPlumbing {
    this.shared ??= temporalPlumbing(process.env, adoHome(process.env));
    return this.shared;
  }

  temporal(): Promise<Client> {
    const { dataConverter, tracing } = this.plumbing();
    this.client ??= connectClient(this.settings(), { dataConverter, interceptors: tracing?.clientInterceptors });
    return this.client;
  }

  async tasks(): Promise<TaskClient> {
    return new TaskClient(await this.temporal(), this.queuePrefix());
  }

  async close(): Promise<void> {
    if (this.client) await (await this.client.catch(() => undefined))?.connection.close();
    await this.shared?.close();
  }
}
