import type { Client } from '@temporalio/client';
import { connectClient, temporalSettings, type TemporalSettings } from '../client/connection';
import { TaskClient } from '../client/task-client';
import type { Logger } from '../telemetry/logger';

/** What every command shares: connection settings from global flags and the environment. */
export class CliContext {
  private client?: Promise<Client>;

  constructor(
    private readonly globals: () => { address?: string; namespace?: string },
    /** The process's logger (stderr); the Temporal SDK logs into it too. */
    readonly logger: Logger,
  ) {}

  settings(): TemporalSettings {
    return temporalSettings(this.globals());
  }

  /** The queue prefix of this deployment (ADO_TASK_QUEUE_PREFIX). */
  queuePrefix(): string {
    return process.env.ADO_TASK_QUEUE_PREFIX ?? '';
  }

  temporal(): Promise<Client> {
    this.client ??= connectClient(this.settings());
    return this.client;
  }

  async tasks(): Promise<TaskClient> {
    return new TaskClient(await this.temporal(), this.queuePrefix());
  }

  async close(): Promise<void> {
    if (this.client) await (await this.client.catch(() => undefined))?.connection.close();
  }
}
