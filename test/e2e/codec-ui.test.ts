/**
 * The Temporal Web UI shows encrypted tasks decrypted: the dev server started with
 * `--ui-codec-endpoint` makes the UI (in the browser) POST the payloads of a workflow's history to
 * ADO's codec server, which decrypts them with the keys. Headless Chromium from Debian drives the UI.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../../src/codec/aes-gcm-codec';
import { startCodecServer, uiOrigins, type CodecServer } from '../../src/api/codec-server';
import { createDataConverter } from '../../src/codec/data-converter';
import { generateKey, Keyring } from '../../src/codec/keyring';
import { ADO_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { locateBinary, TEMPORAL_CLI } from '../../src/temporal/binaries';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { freePort } from '../../src/temporal/ports';
import { createTestActivities } from '../fakes/test-activities';
import { installTestRuntime, withWorkers } from '../helpers/temporal';
import { startTask, taskInput } from '../helpers/workflow';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const PROMPT_MARKER = 'PROMPT-e2e-4b7d';
const PROMPT = `Add a captcha to the signup form [${PROMPT_MARKER}]`;
/** How an encrypted payload's `encoding` metadata looks in protobuf JSON. */
const ENCRYPTED_BASE64 = Buffer.from(ENCRYPTED_ENCODING).toString('base64');

const keyring = new Keyring([generateKey('k1')]);
const dataConverter = createDataConverter(keyring);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ado-codec-ui-'));
/** Sizes of the batches the codec server was asked to decode (by the UI, from the browser). */
const decodeCalls: number[] = [];
let server: DevServer;
let codecServer: CodecServer;
let env: TestWorkflowEnvironment;
let browser: BrowserContext;

const codec = new AesGcmCodec(keyring);
/** The real codec, counting the payloads it is asked to decode. */
const countingCodec: PayloadCodec = {
  encode: (payloads: Payload[]) => codec.encode(payloads),
  decode: (payloads: Payload[]) => {
    decodeCalls.push(payloads.length);
    return codec.decode(payloads);
  },
};

beforeAll(async () => {
  installTestRuntime();
  const uiPort = await freePort();
  // The codec server first: the dev server hands its URL to the UI at start.
  codecServer = await startCodecServer({ port: 0, codec: countingCodec, corsOrigins: uiOrigins(`http://127.0.0.1:${uiPort}`), auth: { tokens: [] } });
  server = await startDevServer({
    binary: await locateBinary(TEMPORAL_CLI),
    dbFile: path.join(dir, 'temporal.db'),
    port: await freePort(),
    uiPort,
    namespace: 'default',
    searchAttributes: ADO_SEARCH_ATTRIBUTES,
    uiCodecEndpoint: codecServer.url,
  });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: 'default' });
  browser = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await env?.teardown();
  await server?.stop();
  await codecServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Temporal Web UI with the codec endpoint', () => {
  it('shows the decrypted prompt in the event history of an encrypted task', async () => {
    const input = taskInput({ prompt: PROMPT });
    const runId = await withWorkers(
      env,
      createTestActivities().activities,
      async ({ queues }) => {
        const client = new Client({ connection: env.connection, namespace: 'default', dataConverter });
        const handle = await startTask(client, queues.task, input);
        await handle.result();
        return (await handle.describe()).runId;
      },
      'all',
      { dataConverter },
    );
    expect(decodeCalls).toEqual([]); // workers and client decode in process; only the UI uses the server

    const page = await browser.newPage();
    page.setDefaultTimeout(60_000); // the UI is a large single-page app; CI machines are slow to start it
    await page.goto(`${server.uiUrl}/namespaces/default/workflows/${input.taskId}/${runId}/history`);
    // The first event, WorkflowExecutionStarted, carries the task input: expand it.
    const expand = page.locator('tr[data-testid="event-summary-row"][data-eventid="1"]').getByRole('button', { name: 'Expand details' });
    await expand.click();
    const details = page.locator('tr[data-testid="event-summary-row-expanded"][id^="event-details-1-"]');
    await details.getByText(PROMPT_MARKER).waitFor();
    // Once the UI's codec calls are answered no payload on the page still shows the encrypted encoding.
    await page.waitForFunction(`!document.body.innerText.includes(${JSON.stringify(ENCRYPTED_BASE64)})`);
    await details.scrollIntoViewIfNeeded();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'codec-ui-history.png') });

    expect(await details.innerText()).toContain(PROMPT);
    expect(decodeCalls.length).toBeGreaterThan(0);
  });
});
