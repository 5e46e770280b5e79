/**
 * Records a real run into a transcript (format in transcript.ts), so that it can be replayed
 * offline by the scripted provider: `ADO_LLM_RECORD=<file>`.
 */
import { readTranscript, withReply, writeTranscript, type Transcript } from './transcript';
import type { ChatRequest, ChatResponse, LlmClient } from './types';

/** Passes requests to `inner` and writes each answer into the transcript at `transcriptPath`. */
export class RecordingLlmClient implements LlmClient {
  /** Writes one at a time: each is a read-modify-write of the whole file. */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly inner: LlmClient,
    private readonly transcriptPath: string,
  ) {}

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const response = await this.inner.chat(request);
    const { promptTokens, completionTokens, costUsd } = response.usage;
    const reply = {
      content: response.content,
      usage: { promptTokens, completionTokens, ...(costUsd === undefined ? {} : { costUsd }) },
      ...(response.toolCalls ? { toolCalls: response.toolCalls } : {}),
    };
    const write = this.writes.then(async () => {
      await writeTranscript(this.transcriptPath, withReply(await this.current(), request, reply));
    });
    // A failed write must not block later ones; this call still reports its own failure.
    this.writes = write.catch(() => {});
    await write;
    return response;
  }

  /** The transcript recorded so far (a new one when the file does not exist yet). */
  private async current(): Promise<Transcript> {
    try {
      return await readTranscript(this.transcriptPath);
    } catch (err) {
      if ((err as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') return { version: 1, code: [] };
      throw err;
    }
  }
}
