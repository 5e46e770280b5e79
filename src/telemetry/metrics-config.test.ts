import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { freePort } from '../temporal/ports';
import { silentLogger } from './logger';
import { DEV_METRICS_PORT, metricsConfigFromEnv, metricsUrl } from './metrics-config';
import { installTelemetryRuntime } from './runtime';

describe('metricsConfigFromEnv', () => {
  it('serves no metrics by default, and on the default port where the caller has one', () => {
    expect(metricsConfigFromEnv({})).toBeUndefined();
    expect(metricsConfigFromEnv({}, { defaultPort: DEV_METRICS_PORT })).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('takes ADO_METRICS_PORT and ADO_METRICS_HOST; "off" wins over a default, empty means unset', () => {
    expect(metricsConfigFromEnv({ ADO_METRICS_PORT: '9100', ADO_METRICS_HOST: '0.0.0.0' })).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(metricsConfigFromEnv({ ADO_METRICS_PORT: 'off' }, { defaultPort: 9464 })).toBeUndefined();
    expect(metricsConfigFromEnv({ ADO_METRICS_PORT: '', ADO_METRICS_HOST: '' }, { defaultPort: 9464 })).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('gives the URL to scrape, loopback for a wildcard host and brackets for IPv6', () => {
    expect(metricsUrl({ host: '0.0.0.0', port: 9464 })).toBe('http://127.0.0.1:9464/metrics');
    expect(metricsUrl({ host: '::', port: 9464 })).toBe('http://[::1]:9464/metrics');
  });

  it.each([
    [{ ADO_METRICS_PORT: '0' }, 'ADO_METRICS_PORT'],
    [{ ADO_METRICS_PORT: 'ninety' }, 'ADO_METRICS_PORT'],
    [{ ADO_METRICS_PORT: '70000' }, 'ADO_METRICS_PORT'],
    [{ ADO_METRICS_PORT: '9464', ADO_METRICS_HOST: 'localhost' }, 'ADO_METRICS_HOST'],
  ])('refuses %o with an error naming %s', (env, variable) => {
    const call = () => metricsConfigFromEnv(env);
    expect(call).toThrow(AdoError);
    expect(call).toThrow(expect.objectContaining({ type: FailureType.InvalidConfig, nonRetryable: true, message: expect.stringContaining(variable) }));
  });
});

describe('installTelemetryRuntime', () => {
  it('says which variable to change when the port is taken, then serves /metrics on a free one', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const busyPort = (taken.address() as net.AddressInfo).port;
    try {
      expect(() => installTelemetryRuntime(silentLogger(), { host: '127.0.0.1', port: busyPort })).toThrow(/ADO_METRICS_PORT/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    const port = await freePort();
    const { metricsUrl: url } = installTelemetryRuntime(silentLogger(), { host: '127.0.0.1', port });
    expect(url).toBe(`http://127.0.0.1:${port}/metrics`);
    const response = await fetch(url!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
  });
});
