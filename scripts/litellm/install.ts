/**
 * Installs the pinned LiteLLM proxy into ADO's cache, as the integration test does on first use;
 * CI can run it early (in the background) so the test finds it ready: `npx tsx scripts/litellm/install.ts`.
 */
import { installLiteLlm, LITELLM_VERSION } from '../../test/llm/litellm-proxy';

async function main(): Promise<void> {
  const started = performance.now();
  const python = await installLiteLlm({ log: (line) => console.log(line) });
  console.log(`litellm[proxy]==${LITELLM_VERSION} ready (${python}) in ${Math.round(performance.now() - started)} ms`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
