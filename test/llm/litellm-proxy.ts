/**
 * A real LiteLLM proxy for integration tests: installs the pinned `litellm[proxy]` from PyPI into
 * a virtualenv under ADO's cache directory (once; later runs reuse it), then starts it on a free
 * loopback port with mock models, so no provider is ever called and no network is needed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { installOnce } from '../../src/config/install-once';
import { userCacheDir } from '../../src/temporal/binaries';
import { freePort } from './chat-server';

const run = promisify(execFile);

/** Pinned: 1.106.x is the last line whose `[proxy]` extra installs from PyPI alone (newer ones need `litellm-proxy`, which PyPI lacks). */
export const LITELLM_VERSION = '1.106.12';

/** A model served by the proxy: `mockResponse` is the answer, or a LiteLLM exception name (`litellm.RateLimitError`) to raise. */
export interface MockModel {
  name: string;
  mockResponse: string;
  /** The provider model it pretends to be; decides the reported cost. Default `openai/gpt-4o-mini`. */
  model?: string;
  /** Tool calls in the OpenAI format the mock answer carries (LiteLLM's `mock_tool_calls`; non-streaming only). */
  mockToolCalls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
}

export interface LiteLlmProxyOptions {
  models: MockModel[];
  env?: NodeJS.ProcessEnv;
  /** Progress lines: install, start, timings. */
  log?: (line: string) => void;
  /** Default 180 s: the proxy imports for ~20 s on two cores. */
  readyTimeoutMs?: number;
}

export interface LiteLlmProxy {
  /** Base URL for `OpenAiCompatibleClient` (the proxy serves `/chat/completions` at its root). */
  url: string;
  masterKey: string;
  /** What the proxy printed so far (its access log included). */
  output(): string;
  /** Measured: install (0 when cached) and start-up until ready. */
  timings: { installMs: number; startMs: number };
  stop(): Promise<void>;
}

/** The Python of the cached virtualenv with `litellm[proxy]`, installing it the first time. */
export async function installLiteLlm(options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const target = path.join(userCacheDir(env), `litellm-${LITELLM_VERSION}`);
  const python = path.join(target, 'bin', 'python');
  const marker = path.join(target, '.installed');
  if (await exists(marker)) return python;

  try {
    await installOnce({
      target,
      isInstalled: () => exists(marker),
      install: async (staging) => {
        log(`Installing litellm[proxy]==${LITELLM_VERSION} from PyPI into ${target} (one time, about two minutes)…`);
        await run(env.ADO_PYTHON || 'python3', ['-m', 'venv', staging], { env });
        await run(
          path.join(staging, 'bin', 'python'),
          ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `litellm[proxy]==${LITELLM_VERSION}`],
          { env: { ...env, PIP_NO_INPUT: '1' }, maxBuffer: 64 * 1024 * 1024 },
        );
        // The venv's own python finds its prefix from where it lies, so the renamed venv works.
        await fs.writeFile(path.join(staging, '.installed'), `${LITELLM_VERSION}\n`);
      },
    });
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`Could not install litellm[proxy]==${LITELLM_VERSION} with pip (needs Python >= 3.10 with venv, and PyPI): ${detail}`, { cause: err });
  }
  return python;
}

/** Installs (when needed) and starts a LiteLLM proxy serving `models`, with a random master key. */
export async function startLiteLlmProxy(options: LiteLlmProxyOptions): Promise<LiteLlmProxy> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const installStart = performance.now();
  const python = await installLiteLlm({ env, log });
  const installMs = performance.now() - installStart;

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ado-litellm-'));
  const masterKey = `sk-ado-${randomUUID()}`;
  const config = {
    model_list: options.models.map((m) => ({
      model_name: m.name,
      litellm_params: {
        model: m.model ?? 'openai/gpt-4o-mini',
        api_key: 'not-used-mock-only',
        mock_response: m.mockResponse,
        ...(m.mockToolCalls ? { mock_tool_calls: m.mockToolCalls } : {}),
      },
    })),
    general_settings: { master_key: masterKey },
    // The client under test does the retrying; the proxy must not hide failures behind its own.
    litellm_settings: { num_retries: 0 },
  };
  const configFile = path.join(dir, 'config.yaml');
  await fs.writeFile(configFile, YAML.stringify(config));
  const port = await freePort();

  const startStart = performance.now();
  const child = spawn(python, ['-m', 'litellm.proxy.proxy_cli', '--config', configFile, '--host', '127.0.0.1', '--port', String(port)], {
    env: {
      ...env,
      // Offline: the bundled model cost map instead of fetching it at start.
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      LITELLM_DONT_SHOW_FEEDBACK_BOX: 'True',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-256 * 1024);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If the test process dies first, the proxy must not outlive it.
  const killOnExit = () => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await fs.rm(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, exited, options.readyTimeoutMs ?? 180_000);
  } catch (err) {
    await stop();
    throw new Error(`LiteLLM proxy did not become ready: ${(err as Error).message}\n--- proxy output ---\n${output.slice(-4000)}`, { cause: err });
  }
  const startMs = performance.now() - startStart;
  log(`LiteLLM ${LITELLM_VERSION} proxy ready at ${url} (install ${Math.round(installMs)} ms, start ${Math.round(startMs)} ms)`);
  return { url, masterKey, output: () => output, timings: { installMs, startMs }, stop };
}

async function waitUntilReady(url: string, exited: Promise<void>, timeoutMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone) throw new Error('the proxy process exited');
    try {
      const response = await fetch(`${url}/health/readiness`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  throw new Error(`no answer on ${url}/health/readiness within ${timeoutMs} ms`);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
