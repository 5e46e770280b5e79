/**
 * Optional OpenTelemetry tracing through the Temporal SDK's interceptors: a span where a client
 * starts or signals a task, one for the workflow run and each activity it schedules (made inside
 * the workflow sandbox and exported through a sink), and one for each activity execution on a
 * worker; one trace per task. Off unless the standard OTEL_* variables ask for it; spans go to an
 * OTLP/HTTP collector.
 *
 * The interceptor classes are wired directly rather than through the package's
 * `OpenTelemetryPlugin` (experimental in 1.24): the plugin adds its workflow module at bundle
 * time, which a prebuilt workflow bundle never sees.
 */
import type { Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import { z } from 'zod';
import { optionalVar as optional, parseEnv } from '../config/env-schema';

/** The workflow-side interceptors: bundled with the workflow code when tracing is on. */
const OTEL_WORKFLOW_INTERCEPTORS = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export interface TracingConfig {
  serviceName: string;
  /** The OTLP/HTTP traces URL (…/v1/traces). */
  endpoint: string;
  headers: Record<string, string>;
}

/** What a worker needs for tracing; hand it to `createWorkers({ tracing })`. */
export interface WorkerTracing {
  /** Workflow interceptor modules to bundle with the workflow code. */
  workflowModules: string[];
  activityInterceptors: ActivityInterceptorsFactory[];
  /** The sink the workflow's spans leave the sandbox through. */
  sinks: InjectedSinks<OpenTelemetrySinks>;
}

export interface Tracing {
  /** For spans of ADO's own (API requests...), in the same traces. */
  tracer: Tracer;
  /** For `new Client({ interceptors })`: starting and signalling a task opens its trace. */
  clientInterceptors: ClientInterceptors;
  worker: WorkerTracing;
  /** Flushes and stops the export; call when the process ends. */
  shutdown(): Promise<void>;
}

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL of an OTLP/HTTP collector, such as http://localhost:4318' });
const headerList = z
  .string()
  .regex(/^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/, { error: 'must be a list of key=value pairs separated by commas' });
const protocol = z.literal('http/json', { error: 'must be "http/json": ADO exports OTLP over HTTP as JSON (collectors take it on port 4318)' });

const tracingEnvSchema = z.object({
  OTEL_SDK_DISABLED: optional(z.enum(['true', 'false'], { error: 'must be true or false' })),
  OTEL_TRACES_EXPORTER: optional(z.enum(['otlp', 'none'], { error: 'must be "otlp" (export traces) or "none" (ADO exports no other way)' })),
  OTEL_EXPORTER_OTLP_ENDPOINT: optional(httpUrl),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional(httpUrl),
  OTEL_EXPORTER_OTLP_PROTOCOL: optional(protocol),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optional(protocol),
  OTEL_EXPORTER_OTLP_HEADERS: optional(headerList),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: optional(headerList),
  OTEL_SERVICE_NAME: optional(z.string()),
});

const DEFAULT_ENDPOINT = 'http://localhost:4318';

/**
 * Reads the standard variables: tracing is on when OTEL_TRACES_EXPORTER=otlp, or when it is unset
 * and OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT names a collector; OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none turn it off. Headers from OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, the
 * service name from OTEL_SERVICE_NAME (default `ado`). Throws a non-retryable `InvalidConfig`
 * error naming each variable that is wrong (never echoing header values: they hold credentials).
 */
export function tracingConfigFromEnv(env: NodeJS.ProcessEnv): TracingConfig | undefined {
  const vars = parseEnv(tracingEnvSchema, env, 'tracing');
  const specific = vars.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = vars.OTEL_EXPORTER_OTLP_ENDPOINT;
  const exporter = vars.OTEL_TRACES_EXPORTER ?? (specific ?? base ? 'otlp' : 'none');
  if (vars.OTEL_SDK_DISABLED === 'true' || exporter === 'none') return undefined;
  return {
    serviceName: vars.OTEL_SERVICE_NAME ?? 'ado',
    // The signal-specific URL is used as given; the general one gets the traces path (OTLP spec).
    endpoint: specific ?? `${(base ?? DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v1/traces`,
    headers: { ...parseHeaders(vars.OTEL_EXPORTER_OTLP_HEADERS), ...parseHeaders(vars.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
  };
}

/** Tracing as `env` configures it (see `tracingConfigFromEnv`), exporting in batches; undefined when off. */
export function tracingFromEnv(env: NodeJS.ProcessEnv): Tracing | undefined {
  const config = tracingConfigFromEnv(env);
  if (!config) return undefined;
  const exporter = new OTLPTraceExporter({ url: config.endpoint, headers: config.headers });
  return createTracing({ serviceName: config.serviceName, spanProcessor: new BatchSpanProcessor(exporter) });
}

/**
 * Tracing whose spans (client, workflow, activities) all end in `spanProcessor`. One per process:
 * it registers itself as the process's OpenTelemetry provider.
 */
export function createTracing(options: { serviceName: string; spanProcessor: SpanProcessor }): Tracing {
  const resource = new Resource({ 'service.name': options.serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [options.spanProcessor] });
  // The SDK's interceptors find the current span through the global context manager, and carry
  // the trace to workflows and activities in headers through the global propagator.
  provider.register({ contextManager: new AsyncLocalStorageContextManager(), propagator: new W3CTraceContextPropagator() });
  const tracer = provider.getTracer('ado');
  return {
    tracer,
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer })] },
    worker: {
      workflowModules: [OTEL_WORKFLOW_INTERCEPTORS],
      activityInterceptors: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      sinks: { exporter: makeWorkflowExporter(options.spanProcessor, resource) },
    },
    shutdown: () => provider.shutdown(),
  };
}

/** `k1=v1,k2=v2` (values percent-encoded, as the OTLP spec says) as a record. */
function parseHeaders(list: string | undefined): Record<string, string> {
  if (list === undefined) return {};
  return Object.fromEntries(
    list.split(',').map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at).trim(), percentDecoded(pair.slice(at + 1).trim())];
    }),
  );
}

/** A stray `%` is taken literally rather than failing the whole configuration. */
function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
