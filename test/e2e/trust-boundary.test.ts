/**
 * The trust boundary, attacked through whole tasks: a malicious repository and a scripted model
 * run on ADO's real parts (the task workflow on a Temporal dev server, the real activities, git,
 * the bubblewrap sandbox, the store). Each test is one attack that once worked: host code
 * execution through a link into .git, setup with network reaching ADO's own services on loopback,
 * a model rewriting the checks that judge it, a repository raising its own limits and filling
 * the disk. The sandbox's own escape probes are in src/sandbox/escape.test.ts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { startApiForStack } from '../../src/api';
import { startCodecServer } from '../../src/api/codec-server';
import { AesGcmCodec } from '../../src/codec';
import { generateKey, Keyring } from '../../src/codec/keyring';
import { FailureType } from '../../src/domain/errors';
import { DEFAULT_SANDBOX_CEILINGS } from '../../src/sandbox';
import { silentLogger } from '../../src/telemetry/logger';
import { humanApprovalSignal } from '../../src/workflows/messages';
import { createTestActivities } from '../fakes/test-activities';
import { agentTranscript, codeAnswer, createRepository, realActivities, transcript } from '../helpers/real-task';
import { useRealTaskStack } from '../helpers/real-stack';
import { withWorkers } from '../helpers/temporal';
import { failureOf, pendingApproval, startTask, stateOf, taskInput } from '../helpers/workflow';
import { connectCommand, hostAddress, hostListener, proxyConnectCommand } from '../sandbox/helpers';

const stack = useRealTaskStack();

const repoDir = (name: string) => path.join(stack.parts().work, 'repos', name);

describe('the trust boundary, attacked through tasks', () => {
  it('an edit through a link the repository commits to .git cannot make host git run a command', async () => {
    const marker = path.join(stack.parts().work, 'host-code-ran');
    const repository = await createRepository(repoDir('git-link'), { 'README.md': '# app\n', '.ado.yml': 'gates:\n  test: "true"\n' }, { g: '.git' });
    const gitConfig = `[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfsmonitor = "touch ${marker}; false"\n`;
    const answers = transcript([
      codeAnswer('Tune the repository settings', [
        { type: 'write', path: 'g/config', content: gitConfig },
        { type: 'write', path: 'g/hooks/pre-commit', content: `#!/bin/sh\ntouch ${marker}\n` },
        { type: 'write', path: 'notes.txt', content: 'an ordinary file\n' },
      ]),
    ]);
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'git-link', answers), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, maxIterations: 1 }));
      const outcome = handle.result();
      await outcome.catch(() => undefined);
      // git add ran (the ordinary edit was committed), and ran nothing the edits wrote.
      expect(existsSync(marker)).toBe(false);
      expect((await failureOf(outcome)).type).toBe(FailureType.MaxIterationsExceeded);
      // The edits through the link came back to the model as errors.
      expect((await stateOf(handle)).errors.map((e) => e.message.replace(/;.*/, ''))).toEqual([
        'write g/config: g is a symbolic link',
        'write g/hooks/pre-commit: g is a symbolic link',
      ]);
    });
  });

  it("setup with network installs real npm and pip packages, and reaches none of ADO's services on loopback nor the host's own address", async () => {
    // The control plane on loopback, as `ado dev` runs it: Temporal, the API (no tokens), the codec endpoint.
    const api = await startApiForStack({ client: stack.env().client, store: stack.parts().store, logger: silentLogger(), env: { ADO_API_PORT: '0' } });
    const decoded: Payload[][] = [];
    const realCodec = new AesGcmCodec(new Keyring([generateKey('k1')]));
    const codec = await startCodecServer({
      port: 0,
      codec: { encode: (p) => realCodec.encode(p), decode: (p) => (decoded.push(p), realCodec.decode(p)) },
      corsOrigins: [],
      auth: { tokens: [] },
    });
    const beside = await hostListener('0.0.0.0');
    try {
      const port = (url: string) => Number(new URL(url.includes('://') ? url : `grpc://${url}`).port);
      const temporalPort = port(stack.env().address);
      const targets: [string, string, number][] = [
        ['temporal', '127.0.0.1', temporalPort],
        ['api', '127.0.0.1', port(api.url)],
        ['codec', '127.0.0.1', port(codec.url)],
        ['host-address', hostAddress(), beside.port],
      ];
      await withWorkers(stack.env(), createTestActivities().activities, async (victimQueues) => {
        // Another task, waiting for its plan to be approved: what the attack approved through the API.
        const victim = await startTask(stack.env().client, victimQueues.queues.task, taskInput({ hitlEnabled: true }));
        await pendingApproval(victim, 'plan');
        const decision = `-X POST -H 'content-type: application/json' -d '{"approved":true,"checkpoint":"plan"}'`;
        const probe = [
          'npm install --no-audit --no-fund --loglevel=error > npm.log 2>&1 && echo "npm left-pad $(node -p "require(\'left-pad/package.json\').version")" || tail -n 3 npm.log',
          'python3 -m pip install --quiet --target vendor six==1.16.0 > pip.log 2>&1 && echo "pip six $(PYTHONPATH=vendor python3 -c \'import six; print(six.__version__)\')" || tail -n 3 pip.log',
          ...targets.flatMap(([name, host, targetPort]) => [`printf '${name} direct '; ${connectCommand(host, targetPort)}`, `printf '${name} '; ${proxyConnectCommand(host, targetPort)}`]),
          `curl -s -o /dev/null -m 10 -w 'api-decision %{http_code}\\n' ${decision} http://127.0.0.1:${port(api.url)}/api/tasks/${victim.workflowId}/decision`,
          `curl -s -o /dev/null -m 10 -w 'api-decision-through-proxy %{http_code}\\n' --noproxy '' -x http://127.0.0.1:3128 ${decision} http://127.0.0.1:${port(api.url)}/api/tasks/${victim.workflowId}/decision`,
          `curl -s -o /dev/null -m 10 -w 'codec-decode %{http_code}\\n' -X POST -H 'content-type: application/json' -d '{"payloads":[]}' http://127.0.0.1:${port(codec.url)}/decode`,
          // Fail on purpose: a failing setup's output is what comes back in the task's errors.
          'exit 1',
        ].join('\n');
        const repository = await createRepository(repoDir('network'), {
          'package.json': JSON.stringify({ name: 'probe', version: '1.0.0', dependencies: { 'left-pad': '1.3.0' } }),
          'probe.sh': `${probe}\n`,
          '.ado.yml': 'setup: { command: sh probe.sh, network: true, timeout: 5m }\ngates:\n  test: "true"\n',
        });
        const answers = transcript([codeAnswer('Add a note', [{ type: 'write', path: 'NOTE.md', content: 'note\n' }])]);
        await withWorkers(stack.env(), await realActivities(stack.parts(), 'network', answers), async ({ queues }) => {
          const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, maxIterations: 1 }));
          await failureOf(handle.result());
          const [setup] = (await stateOf(handle)).errors;
          expect(setup?.tool).toBe('setup');
          const report = (setup?.message ?? '').split('\n');
          expect(report).toEqual(
            expect.arrayContaining([
              'npm left-pad 1.3.0',
              'pip six 1.16.0',
              'temporal direct BLOCKED ECONNREFUSED',
              'temporal PROXY 403',
              'api direct BLOCKED ECONNREFUSED',
              'api PROXY 403',
              'codec direct BLOCKED ECONNREFUSED',
              'codec PROXY 403',
              'host-address direct BLOCKED ENETUNREACH',
              'host-address PROXY 403',
              'api-decision 000',
              'api-decision-through-proxy 403',
              'codec-decode 000',
            ]),
          );
        });
        const state = await stateOf(victim);
        expect(state.pendingApproval?.checkpoint).toBe('plan');
        expect(state.approvals).toEqual([]);
        await victim.terminate('test done');
      });
      expect(beside.connections()).toBe(0);
      expect(decoded).toEqual([]);
    } finally {
      await codec.close();
      await api.close();
    }
  });

  it('a model that rewrites its gates, scripts, limits and network in its own commit is still judged by the base commit', async () => {
    const repository = await createRepository(repoDir('rewrite'), {
      'package.json': JSON.stringify({ name: 'app', version: '1.0.0', scripts: { test: 'node test.js' } }, null, 2),
      'test.js': "console.log('the base commit test ran'); process.exit(1);\n",
    });
    const answers = transcript([
      codeAnswer('Make the checks pass', [
        { type: 'write', path: 'package.json', content: JSON.stringify({ name: 'app', version: '1.0.0', scripts: { test: 'true' } }) },
        {
          type: 'write',
          path: '.ado.yml',
          content: 'setup: { command: "true", network: true }\ngates:\n  test: "true"\nlimits: { processes: 100000, timeout: 24h }\n',
        },
      ]),
    ]);
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'rewrite', answers), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, maxIterations: 1 }));
      expect((await failureOf(handle.result())).type).toBe(FailureType.MaxIterationsExceeded);
      const [gate] = (await stateOf(handle)).errors;
      expect(gate).toMatchObject({ tool: 'test', exitCode: 1 });
      expect(gate?.message).toContain('the base commit test ran');
    });
  });

  it('a pull request that edits configuration, CI, lockfiles or test setup says so first, in its description and at the pr checkpoint', async () => {
    const repository = await createRepository(repoDir('sensitive'), {
      'package.json': JSON.stringify({ name: 'app', version: '1.0.0', scripts: { test: 'node test.js' } }, null, 2),
      'test.js': "console.log('ok');\n",
      'src/app.js': 'module.exports = 1;\n',
    });
    const answers = transcript([
      codeAnswer('Change the app and its tooling', [
        { type: 'replace', path: 'src/app.js', search: '1', replace: '2' },
        { type: 'write', path: 'package.json', content: JSON.stringify({ name: 'app', version: '1.0.1', scripts: { test: 'node test.js', postinstall: 'node setup.js' } }) },
        { type: 'write', path: 'package-lock.json', content: '{"lockfileVersion": 3}\n' },
        { type: 'write', path: '.github/workflows/ci.yml', content: 'on: push\n' },
        { type: 'write', path: 'vitest.config.js', content: 'export default {};\n' },
      ]),
    ]);
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'sensitive', answers), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, hitlEnabled: true }));
      await pendingApproval(handle, 'plan');
      await handle.signal(humanApprovalSignal, { approved: true, reviewer: 'test' });
      const pr = await pendingApproval(handle, 'pr', 60_000);
      const listed = [
        '`.github/workflows/ci.yml`: CI, added',
        '`package-lock.json`: lockfile, added',
        '`package.json`: manifest and build scripts, modified',
        '`vitest.config.js`: test and lint configuration, added',
      ];
      expect(pr.context).toContain("Review first: it edits how code is built or checked (the task was checked with the base branch's versions):");
      for (const line of listed) expect(pr.context).toContain(`- ${line}`);
      expect(pr.context).not.toContain('src/app.js');
      const [record] = await stack.parts().store.pullRequests.listForTask(handle.workflowId);
      expect(record?.description.split('\n').slice(0, 2)).toEqual([
        '> [!WARNING]',
        '> **Review these first.** This change edits files that decide how code is built, installed or checked.',
      ]);
      for (const line of listed) expect(record?.description).toContain(`> - ${line}`);
      await handle.terminate('test done');
    });
  });

  it("a repository's limits stay under the operator's ceilings, and a gate filling the disk is stopped", async () => {
    const repository = await createRepository(repoDir('limits'), {
      // What a repository once asked for: 50,000 processes, 30 GiB, a day of CPU, 600 MB of output.
      '.ado.yml': [
        'gates:',
        "  test: grep -E '^Max (processes|data size|cpu time|file size) ' /proc/self/limits; exit 1",
        '  build: i=0; while [ $i -lt 192 ]; do head -c 16777216 /dev/zero > "f$i"; i=$((i+1)); done; echo wrote 3 GiB',
        'limits: { processes: 50000, memory: 30g, cpu: 24h, timeout: 24h, output: 600m, disk: 100g }',
        '',
      ].join('\n'),
    });
    const answers = transcript([codeAnswer('Add a note', [{ type: 'write', path: 'NOTE.md', content: 'note\n' }])]);
    // This operator allows 256 MiB of disk per run (the default ceiling is 8 GiB, too slow to fill in a test).
    const sandbox = { ceilings: { ...DEFAULT_SANDBOX_CEILINGS, diskBytes: 256 * 1024 ** 2 } };
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'limits', answers, sandbox), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, maxIterations: 1 }));
      await failureOf(handle.result());
      const errors = Object.fromEntries((await stateOf(handle)).errors.map((e) => [e.tool, e.message]));
      const soft = (name: string) => Number(new RegExp(`^Max ${name}\\s+(\\d+)`, 'm').exec(errors.test ?? '')?.[1]);
      expect(soft('processes')).toBe(DEFAULT_SANDBOX_CEILINGS.maxProcesses);
      expect(soft('data size')).toBe(DEFAULT_SANDBOX_CEILINGS.memoryBytes);
      expect(soft('cpu time')).toBe(DEFAULT_SANDBOX_CEILINGS.cpuTimeSec);
      expect(soft('file size')).toBe(256 * 1024 ** 2);
      expect(errors.build).toContain('killed: wrote more than the disk limit of 256 MiB to the workspace');
      expect(errors.build).not.toContain('wrote 3 GiB');
    });
  });

  it('a run that rewrites a committed file keeping its size and times cannot make the gates judge a tree the commit does not hold', async () => {
    const repository = await createRepository(repoDir('same-stat'), {
      '.ado.yml': 'gates:\n  test: grep -q fixed src/state.txt\n',
      'src/state.txt': 'broken\n',
    });
    // Same length, same inode, mtime put back: git's stat check alone sees no change.
    const rewrite = "t=$(mktemp); touch -r src/state.txt $t; printf 'fixed.\\n' > src/state.txt; touch -r $t src/state.txt; cat src/state.txt";
    // The pause first: git re-reads a file changed in the second its index was written ("racily clean").
    const answers = agentTranscript([
      [{ name: 'run', arguments: { command: 'sleep 2' } }],
      [{ name: 'run', arguments: { command: rewrite } }],
      [{ name: 'finish', arguments: { summary: 'fixed' } }],
    ]);
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'same-stat', answers), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, coder: 'agent', maxIterations: 1 }));
      await failureOf(handle.result());
      const steps = (await stateOf(handle)).session?.steps.map((s) => `${s.tool} ${s.outcome}`);
      // The run saw its rewrite; finish then ran the gates on the commit, which still says broken.
      expect(steps).toEqual(['run ok', 'run ok', 'finish error']);
    });
  });

  it("a run that plants ignored files or replaces what setup installed cannot make the next gates pass", async () => {
    const repository = await createRepository(repoDir('plant'), {
      '.gitignore': '.cache/\ndeps/\n',
      '.ado.yml': [
        "setup: \"mkdir -p deps && echo 'grep -q fixed src/state.txt' > deps/check.sh\"",
        'gates:',
        '  test: sh deps/check.sh',
        '  lint: "grep -q pass .cache/verdict || grep -q fixed src/state.txt"',
        '',
      ].join('\n'),
      'src/state.txt': 'broken\n',
    });
    const plant = 'mkdir -p .cache && echo pass > .cache/verdict && rm deps/check.sh && echo "exit 0" > deps/check.sh && sh deps/check.sh && echo planted';
    const answers = agentTranscript([[{ name: 'run', arguments: { command: plant } }], [{ name: 'finish', arguments: { summary: 'fixed' } }]]);
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'plant', answers), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, coder: 'agent', maxIterations: 1 }));
      await failureOf(handle.result());
      const state = await stateOf(handle);
      expect(state.session?.steps.map((s) => `${s.tool} ${s.outcome}`)).toEqual(['run ok', 'finish error']);
      // Both gates ran on the commit and what setup installs, and failed as they should.
      const finished = await stack.parts().store.agentBlobs.get(`${state.session!.workflowId}/observation/2`);
      expect(finished).toContain('test: FAILED');
      expect(finished).toContain('lint: FAILED');
    });
  });

  // The dependency cache links trees only where runs are another user's (as root: nobody).
  it.runIf(process.getuid?.() === 0)("a setup the model rewrote cannot plant what another task's gates run through the dependency cache", async () => {
    const repository = await createRepository(repoDir('cache-poison'), {
      'package-lock.json': '{ "revision": 1 }\n',
      'install.sh': 'mkdir -p deps && echo installed > deps/ready\n',
      'src/state.txt': 'broken\n',
      '.ado.yml': 'setup: sh install.sh\ngates:\n  test: test "$(cat deps/ready)" = installed && grep -q fixed src/state.txt\n',
    });
    const bump = { type: 'write', path: 'package-lock.json', content: '{ "revision": 2 }\n' };
    const fix = { type: 'write', path: 'src/state.txt', content: 'fixed\n' };
    // The attacker's task bumps the lockfile (so setup runs again, on its tree) and rewrites what setup runs.
    const trojan = { type: 'write', path: 'install.sh', content: 'mkdir -p deps && echo trojan > deps/ready\n' };
    const attack = transcript([codeAnswer('Upgrade the dependencies', [bump, trojan, fix])]);
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'cache-poison-1', attack), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, maxIterations: 1 }));
      await failureOf(handle.result());
    });
    // Another task on the same repository makes the same lockfile change, and nothing else suspicious.
    const honest = transcript([codeAnswer('Upgrade the dependencies and fix the state', [bump, fix])]);
    await withWorkers(stack.env(), await realActivities(stack.parts(), 'cache-poison-2', honest), async ({ queues }) => {
      const handle = await startTask(stack.env().client, queues.task, taskInput({ repository, maxIterations: 1 }));
      expect((await handle.result()).status).toBe('completed');
    });
  });
});

