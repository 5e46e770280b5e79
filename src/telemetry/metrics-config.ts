/**
 * Where a process serves Prometheus metrics (`ADO_METRICS_PORT`, `ADO_METRICS_HOST`), and the
 * Temporal runtime options that serve them: the SDK's metrics under `ado_temporal_`, counters with
 * the `_total` suffix, ADO's histogram buckets.
 */
import { z } from 'zod';
import type { TelemetryOptions } from '@temporalio/worker';
import { parseEnv, unsetWhenEmpty } from '../config/env-schema';
import { histogramBuckets, TEMPORAL_METRIC_PREFIX } from './metric-catalog';

/** `ado dev`'s metrics port when ADO_METRICS_PORT is unset (the usual Prometheus exporter port). */
export const DEV_METRICS_PORT = 9464;

export interface MetricsConfig {
  /** An IP address to bind (the runtime takes no host names). */
  host: string;
  port: number;
}

const portError = 'must be a port number (1-65535), or "off"';

const metricsEnvSchema = z.object({
  ADO_METRICS_PORT: z.preprocess(
    unsetWhenEmpty,
    z
      .union([z.literal('off'), z.coerce.number({ error: portError }).int({ error: portError }).min(1, { error: portError }).max(65_535, { error: portError })], {
        error: portError,
      })
      .optional(),
  ),
  ADO_METRICS_HOST: z.preprocess(
    unsetWhenEmpty,
    z.union([z.ipv4(), z.ipv6()], { error: 'must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0' }).default('127.0.0.1'),
  ),
});

/**
 * Reads ADO_METRICS_PORT (a port, or `off`) and ADO_METRICS_HOST (default 127.0.0.1; 0.0.0.0 to
 * be scraped from other hosts). Without a port the process serves no metrics, unless the caller
 * gives `defaultPort` (`ado dev`). Throws a non-retryable `InvalidConfig` error naming the variable.
 */
export function metricsConfigFromEnv(env: NodeJS.ProcessEnv, options: { defaultPort?: number } = {}): MetricsConfig | undefined {
  const vars = parseEnv(metricsEnvSchema, env, 'metrics');
  const port = vars.ADO_METRICS_PORT ?? options.defaultPort;
  if (port === undefined || port === 'off') return undefined;
  return { host: vars.ADO_METRICS_HOST, port };
}

/** `host:port` as a socket address (IPv6 in brackets). */
export function bindAddress(config: MetricsConfig): string {
  return `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
}

/** Where to scrape `config`'s endpoint (a wildcard host is shown as loopback). */
export function metricsUrl(config: MetricsConfig): string {
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  return `http://${bindAddress({ ...config, host })}/metrics`;
}

/** The runtime's metrics options for `config`: a Prometheus endpoint at `/metrics`. */
export function prometheusMetrics(config: MetricsConfig): NonNullable<TelemetryOptions['metrics']> {
  return {
    metricPrefix: TEMPORAL_METRIC_PREFIX,
    // The runtime's `service_name="temporal-core-sdk"` on every series says nothing here.
    attachServiceName: false,
    prometheus: {
      bindAddress: bindAddress(config),
      countersTotalSuffix: true,
      histogramBucketOverrides: histogramBuckets(),
    },
  };
}
