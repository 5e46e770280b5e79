/**
 * Tasks run by workers and clients with the AES-GCM data converter leave only ciphertext in the
 * server's history: no prompt, plan, code or failure text, and nothing a client without the keys
 * can read; with the keys the same payloads decode to the plaintext.
 */
import path from 'node:path';
import { Client } from '@temporalio/client';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestActivities, type FakeScript } from '../../test/fakes/test-activities';
import { startLocalEnv, withWorkers } from '../../test/helpers/temporal';
import { failureOf, pendingApproval, startTask, taskInput, waitFor } from '../../test/helpers/workflow';
import type { AdoActivities } from '../activities/interfaces';
import { FailureType } from '../domain/errors';
import { humanApprovalSignal } from '../workflows/messages';
import { AesGcmCodec, isEncrypted } from './aes-gcm-codec';
import { createDataConverter, ENCODING_FAILURE_CONVERTER_PATH } from './data-converter';
import { generateKey, Keyring } from './keyring';

type History = temporal.api.history.v1.IHistory;

const keyring = new Keyring([generateKey('k1')]);
const dataConverter = createDataConverter(keyring);
let env: TestWorkflowEnvironment;
let client: Client;
let workflowBundle: WorkflowBundleOption;

beforeAll(async () => {
  env = await startLocalEnv();
  client = new Client({ connection: env.connection, namespace: env.namespace, dataConverter });
  // Failures raised in workflow code are encoded only by a bundle built with the converter.
  workflowBundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, '..', 'workflows', 'index.ts'),
    failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
});
afterAll(async () => {
  await env?.teardown();
});

/** Runs one task to its end with encrypting workers; returns its raw history (as the server keeps it). */
async function runEncrypted(script: FakeScript, overrides: Partial<AdoActivities>, input: ReturnType<typeof taskInput>, check: (result: Promise<unknown>) => Promise<void>): Promise<History> {
  const fake = createTestActivities(script);
  return withWorkers(
    env,
    { ...fake.activities, ...overrides },
    async ({ queues }) => {
      const handle = await startTask(client, queues.task, input);
      await check(handle.result());
      // The environment's own client has no codec: it sees what the server stores.
      return env.client.workflow.getHandle(input.taskId).fetchHistory();
    },
    'all',
    { dataConverter, workflowBundle },
  );
}

/**
 * The SDK's own bookkeeping in markers, written in plain JSON by the SDK core: a local activity's
 * sequence number, type and times (`data`; its result is a payload like any other) and a patch's
 * id (`patch-data`). They hold nothing of the task.
 */
const SDK_MARKER_DETAILS = new Set(['data', 'patch-data']);

/**
 * Every payload in the history, except search attributes (the server must index those, so no
 * codec touches them) and the SDK's marker bookkeeping.
 */
function payloadsOf(value: unknown, key = ''): Payload[] {
  if (key === 'searchAttributes' || value === null || typeof value !== 'object' || value instanceof Uint8Array) return [];
  if (SDK_MARKER_DETAILS.has(key) && 'payloads' in value) return [];
  if ('metadata' in value && 'data' in value) return [value as Payload];
  return Object.entries(value).flatMap(([k, v]) => payloadsOf(v, k));
}

function rawBytes(history: History): Buffer {
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
}

async function decodedText(history: History): Promise<string> {
  const decoded = await new AesGcmCodec(keyring).decode(payloadsOf(history.events));
  return decoded.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8')).join('\n');
}

function expectOnlyCiphertext(history: History, secrets: string[]): void {
  const payloads = payloadsOf(history.events);
  expect(payloads.length).toBeGreaterThan(5); // the scan found the task's payloads
  expect(payloads.filter((p) => !isEncrypted(p))).toEqual([]);
  const raw = rawBytes(history);
  for (const secret of secrets) expect(raw.includes(secret), `"${secret}" is in the stored history`).toBe(false);
}

describe('history of tasks with encrypted payloads', () => {
  it('holds no plaintext prompt, plan or code, and decodes to them with the keys', async () => {
    const input = taskInput({ prompt: 'Rate-limit POST /signup [PROMPT-7c1e]' });
    const script = { plan: 'Plan: add function limitSignups(req) to src/signup.ts [PLAN-5d2a]' };
    const generateCode: AdoActivities['generateCode'] = async () => ({
      sha: 'sha-code',
      summary: 'wrote `function limitSignups(req) { return bucket.take(req.ip) }` [CODE-9f3b]',
      filesChanged: ['src/signup.ts'],
      editErrors: [],
      usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    });
    const history = await runEncrypted(script, { generateCode }, input, async (result) => {
      expect(await result).toMatchObject({ status: 'completed' });
    });

    const secrets = ['PROMPT-7c1e', 'PLAN-5d2a', 'CODE-9f3b', 'limitSignups'];
    expectOnlyCiphertext(history, secrets);
    await expect(env.client.workflow.getHandle(input.taskId).result()).rejects.toThrow(/binary\/encrypted/);
    const plaintext = await decodedText(history);
    for (const secret of secrets) expect(plaintext).toContain(secret);
  });

  it('encodes failure messages and stack traces, from activities and from workflow code', async () => {
    const leaking = taskInput();
    const planTask: AdoActivities['planTask'] = async () => {
      throw ApplicationFailure.nonRetryable('The model answered with code: eval(process.env.SECRET) [LEAK-31ab]', FailureType.InvalidLlmOutput);
    };
    const leaked = await runEncrypted({}, { planTask }, leaking, async (result) => {
      expect((await failureOf(result)).message).toContain('LEAK-31ab');
    });

    const failing = taskInput({ maxIterations: 1 });
    const gateFailures = [[{ tool: 'lint', message: 'src/signup.ts:3 no-eval [GATE-77e0]' }]];
    const failed = await runEncrypted({ gateFailures }, {}, failing, async (result) => {
      const failure = await failureOf(result);
      expect(failure.type).toBe(FailureType.MaxIterationsExceeded);
      expect(failure.message).toBe('Quality gates failed after 1 iterations');
    });

    for (const history of [leaked, failed]) {
      const failures = history.events!.flatMap((e) => [e.activityTaskFailedEventAttributes?.failure, e.workflowExecutionFailedEventAttributes?.failure]).filter(Boolean);
      expect(failures.length).toBeGreaterThan(0);
      for (const failure of failures) expect([failure!.message, failure!.stackTrace]).toEqual(['Encoded failure', '']);
    }
    expectOnlyCiphertext(leaked, ['LEAK-31ab', 'process.env.SECRET', 'encrypted-history.test']);
    expectOnlyCiphertext(failed, ['GATE-77e0', 'Quality gates failed']);
    expect(await decodedText(leaked)).toContain('LEAK-31ab');
    expect(await decodedText(failed)).toContain('Quality gates failed after 1 iterations');
  });

  it('a worker refuses a plaintext signal, as `temporal workflow signal` sends it without the codec: the decision does not count, and the failure says why', async () => {
    const input = taskInput({ hitlEnabled: true });
    const fake = createTestActivities();
    const workerDataConverter = createDataConverter(keyring, { refusePlaintext: true });
    await withWorkers(
      env,
      fake.activities,
      async ({ queues }) => {
        const handle = await startTask(client, queues.task, input);
        await pendingApproval(handle, 'plan');
        // The environment's own client has no codec: its payload is json/plain.
        await env.client.workflow.getHandle(input.taskId).signal(humanApprovalSignal, { approved: true, reviewer: 'mallory' });
        const raw = env.client.workflow.getHandle(input.taskId);
        const failed = await waitFor(async () => (await raw.fetchHistory()).events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes ?? undefined, 'a failed workflow task');
        const [details] = await new AesGcmCodec(keyring).decode([failed.failure!.encodedAttributes!]);
        const failure = JSON.parse(Buffer.from(details!.data!).toString()) as { message: string };
        expect(failure.message).toContain('Refused a payload that is not encrypted (encoding json/plain): payload encryption is on');
        // Nothing after the plan was decided: no decomposition, no recorded approval.
        const events = (await raw.fetchHistory()).events ?? [];
        const activities = events.flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
        expect(activities).not.toContain('decomposeTask');
        expect(activities).not.toContain('recordApprovalDecision');
        await handle.terminate('test done');
      },
      'all',
      { dataConverter: workerDataConverter, workflowBundle },
    );
  });
});
