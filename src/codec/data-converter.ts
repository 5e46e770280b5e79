/** The data converter of an encrypted setup, for every client and worker that shares the keys. */
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { AesGcmCodec, type AesGcmCodecOptions } from './aes-gcm-codec';
import type { Keyring } from './keyring';

/**
 * The module exporting the encoding failure converter: sources under tsx/vitest, compiled
 * JavaScript in dist/. Pass it as `failureConverterPath` to `bundleWorkflowCode` too, so failures
 * raised in workflow code are encoded as well.
 */
export const ENCODING_FAILURE_CONVERTER_PATH = path.join(__dirname, `failure-converter${path.extname(__filename)}`);

/**
 * Payloads encrypted with `keyring`, and failure messages and stack traces encoded into payloads
 * so they are encrypted too. Give it to `new Client({ dataConverter })` (see `connectClient`);
 * workers get the one with `refusePlaintext` (`Worker.create({ dataConverter })`,
 * `createWorkers({ workerOptions: { dataConverter } })`), so that they act on nothing someone
 * without the keys sent.
 */
export function createDataConverter(keyring: Keyring, options: AesGcmCodecOptions = {}): DataConverter {
  return { payloadCodecs: [new AesGcmCodec(keyring, options)], failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH };
}
