import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AdoError, FailureType } from '../domain/errors';
import { tracingConfigFromEnv, tracingFromEnv } from './tracing';

describe('tracingConfigFromEnv', () => {
  it('is off unless the OTEL_* variables ask for traces', () => {
    expect(tracingConfigFromEnv({})).toBeUndefined();
    expect(tracingConfigFromEnv({ OTEL_SERVICE_NAME: 'ado-worker' })).toBeUndefined();
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
  });

  it('exports to the collector an endpoint names, with the traces path and the headers', () => {
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_EXPORTER_OTLP_HEADERS: 'x-team=ado,authorization=Bearer%20t0k' })).toEqual({
      serviceName: 'ado',
      endpoint: 'http://collector:4318/v1/traces',
      headers: { 'x-team': 'ado', authorization: 'Bearer t0k' },
    });
    expect(
      tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example/custom', OTEL_SERVICE_NAME: 'ado-worker-code' }),
    ).toMatchObject({ serviceName: 'ado-worker-code', endpoint: 'https://otlp.example/custom' });
    expect(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ endpoint: 'http://localhost:4318/v1/traces' });
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key-s3cret' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
  ])('refuses %o with an error naming %s, echoing no header value', (env, variable) => {
    const call = () => tracingConfigFromEnv(env);
    expect(call).toThrow(AdoError);
    expect(call).toThrow(expect.objectContaining({ type: FailureType.InvalidConfig, nonRetryable: true, message: expect.stringContaining(variable) }));
    expect(call).not.toThrow(/s3cret/);
  });
});

describe('tracingFromEnv', () => {
  it('sends spans as OTLP/HTTP JSON to the configured collector, with its headers and the service name', async () => {
    const requests: Array<{ url?: string; auth?: string; body: string }> = [];
    const collector = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push({ url: req.url, auth: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = collector.address() as AddressInfo;
      const tracing = tracingFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t0k',
        OTEL_SERVICE_NAME: 'ado-api',
      });
      tracing!.tracer.startSpan('GET /api/tasks').end();
      await tracing!.shutdown();
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ url: '/v1/traces', auth: 'Bearer t0k' });
      const body = JSON.parse(requests[0]!.body) as { resourceSpans: Array<{ resource: { attributes: unknown[] }; scopeSpans: Array<{ spans: Array<{ name: string }> }> }> };
      expect(body.resourceSpans[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'ado-api' } });
      expect(body.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name)).toEqual(['GET /api/tasks']);
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
