/**
 * The body of Temporal's remote codec protocol: a `Payloads` message in protobuf JSON, i.e.
 * `{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`, as the Web UI and
 * `temporal --codec-endpoint` send it to `/encode` and `/decode`.
 */
import type { Payload } from '@temporalio/common';
import { z } from 'zod';

/** Protobuf JSON accepts standard and URL-safe base64, padded or not. */
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'expected base64');

const payloadJson = z.object({
  metadata: z.record(z.string(), base64).nullish(),
  data: base64.nullish(),
});

export const payloadsJson = z.object({ payloads: z.array(payloadJson).nullish() });
export type PayloadsJson = z.infer<typeof payloadsJson>;

/** The payloads of a parsed request body. */
export function payloadsFromJson(body: PayloadsJson): Payload[] {
  return (body.payloads ?? []).map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));
}

/** The response body for `payloads`. */
export function payloadsToJson(payloads: readonly Payload[]): { payloads: Array<{ metadata: Record<string, string>; data: string }> } {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  };
}
