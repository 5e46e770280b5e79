/**
 * The Temporal runtime of a process that runs workers (`ado dev`, `ado worker`): the SDK's logs
 * into ADO's logger and, when configured, the Prometheus endpoint every worker of the process
 * reports through.
 */
import type { LogLevel } from '@temporalio/common';
import { FailureType, nonRetryable } from '../domain/errors';
import type { Logger } from './logger';
import { bindAddress, metricsUrl, prometheusMetrics, type MetricsConfig } from './metrics-config';
import { installTemporalRuntime } from './temporal-logger';

/**
 * Installs the runtime with `metrics` (see `metricsConfigFromEnv`); call before any worker or
 * native connection exists. Returns the URL to scrape, when this call started the endpoint.
 * Throws a non-retryable `InvalidConfig` error naming ADO_METRICS_PORT when the port is taken.
 */
export function installTelemetryRuntime(logger: Logger, metrics: MetricsConfig | undefined, options: { sdkLevel?: LogLevel } = {}): { metricsUrl?: string } {
  let installed: boolean;
  try {
    installed = installTemporalRuntime(logger, { ...options, telemetryOptions: metrics && { metrics: prometheusMetrics(metrics) } });
  } catch (err) {
    if (!metrics) throw err;
    throw nonRetryable(
      FailureType.InvalidConfig,
      `Cannot serve metrics on ${bindAddress(metrics)} (${(err as Error).message}): set ADO_METRICS_PORT to a free port, or ADO_METRICS_PORT=off.`,
      { cause: err },
    );
  }
  if (!metrics) return {};
  if (!installed) {
    logger.warn({ bindAddress: bindAddress(metrics) }, 'The Temporal runtime was installed before metrics were configured: this process serves no /metrics');
    return {};
  }
  return { metricsUrl: metricsUrl(metrics) };
}
