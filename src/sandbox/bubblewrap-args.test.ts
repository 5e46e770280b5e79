import { describe, expect, it } from 'vitest';
import { buildBubblewrapArgs, buildProbeArgs, SANDBOX_PATH, sandboxPath, type BubblewrapRun } from './bubblewrap-args';
import { DEFAULT_SANDBOX_LIMITS } from './types';

const mergedUsr = {
  rootEntries: [
    { path: '/bin', kind: 'symlink' as const, target: 'usr/bin' },
    { path: '/lib', kind: 'symlink' as const, target: 'usr/lib' },
    { path: '/lib64', kind: 'dir' as const },
  ],
  node: '/usr/bin/node',
};

function run(overrides: Partial<BubblewrapRun> = {}): BubblewrapRun {
  return {
    command: 'npm test',
    workdir: '/srv/ado/workspaces/task-1',
    env: { PATH: SANDBOX_PATH, HOME: '/tmp' },
    limits: DEFAULT_SANDBOX_LIMITS,
    prlimitPath: '/usr/bin/prlimit',
    layout: mergedUsr,
    ...overrides,
  };
}

/** The [source, destination] pairs of every bind option. */
function binds(args: string[]): [string, string, string][] {
  const found: [string, string, string][] = [];
  args.forEach((arg, i) => {
    if (/^--(ro-|dev-)?bind(-try)?$/.test(arg)) found.push([arg, args[i + 1] ?? '', args[i + 2] ?? '']);
  });
  return found;
}

/** The sandbox's own options: everything before the command's `--`. */
function options(args: string[]): string[] {
  return args.slice(0, args.indexOf('--'));
}

describe('buildBubblewrapArgs', () => {
  it('unshares every namespace, keeps no network and no nested user namespaces', () => {
    const args = options(buildBubblewrapArgs(run()));
    expect(args).toEqual(expect.arrayContaining(['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session']));
    expect(args).not.toContain('--share-net');
    expect(binds(args).map(([, source]) => source)).not.toContain('/etc/resolv.conf');
  });

  it('with network, still shares none: binds the egress proxy folder and runs the command under the bridge', () => {
    const all = buildBubblewrapArgs(run({ egress: { proxyDir: '/tmp/ado-egress-x', nodePath: '/usr/bin/node' } }));
    const args = options(all);
    expect(args).not.toContain('--share-net');
    expect(binds(args).map(([, source]) => source)).not.toContain('/etc/resolv.conf');
    expect(binds(args)).toContainEqual(['--ro-bind', '/tmp/ado-egress-x', '/run/ado-egress']);
    const command = all.slice(all.indexOf('--') + 1);
    const afterLimits = command.slice(command.indexOf('--') + 1);
    expect(afterLimits.slice(0, 2)).toEqual(['/usr/bin/node', '-e']);
    expect(afterLimits.slice(3)).toEqual(['3128', '/run/ado-egress/proxy.sock', '/bin/sh', '-c', 'npm test']);
  });

  it('binds the workspace as the only writable host folder, at /workspace, and starts there', () => {
    const args = options(buildBubblewrapArgs(run()));
    const writable = binds(args).filter(([option]) => !option.startsWith('--ro-'));
    expect(writable).toEqual([['--bind', '/srv/ado/workspaces/task-1', '/workspace']]);
    expect(args.slice(args.indexOf('--chdir'), args.indexOf('--chdir') + 2)).toEqual(['--chdir', '/workspace']);
  });

  it('shows system folders read-only and never the host root, /root, home folders, /run or /var', () => {
    const sources = binds(options(buildBubblewrapArgs(run()))).map(([, source]) => source);
    expect(sources).toContain('/usr');
    expect(sources).toContain('/lib64');
    expect(sources).toContain('/etc/ssl/certs');
    expect(sources).toContain('/etc/ld.so.cache');
    for (const source of sources) {
      expect(source).not.toMatch(/^\/(root|home|run|var)?$|^\/(root|home|run|var)\/|^\/etc$|^\/etc\/(shadow|gshadow|ssl\/private|sudoers)/);
    }
  });

  it('recreates merged-/usr symlinks instead of binding them', () => {
    const args = buildBubblewrapArgs(run());
    const i = args.indexOf('/bin');
    expect(args.slice(i - 2, i + 1)).toEqual(['--symlink', 'usr/bin', '/bin']);
  });

  it('binds a node toolchain that lives outside /usr and puts its bin first on PATH', () => {
    const layout = { ...mergedUsr, toolchainPrefix: '/opt/hostedtoolcache/node/20.19.0/x64' };
    expect(binds(buildBubblewrapArgs(run({ layout })))).toContainEqual(['--ro-bind', layout.toolchainPrefix, layout.toolchainPrefix]);
    expect(sandboxPath(layout)).toBe(`/opt/hostedtoolcache/node/20.19.0/x64/bin:${SANDBOX_PATH}`);
    expect(sandboxPath(mergedUsr)).toBe(SANDBOX_PATH);
  });

  it('gives a fresh /proc, a minimal /dev and size-capped private /tmp and /dev/shm', () => {
    const args = options(buildBubblewrapArgs(run({ limits: { ...DEFAULT_SANDBOX_LIMITS, memoryBytes: 512 * 1024 ** 2 } })));
    expect(args.join(' ')).toContain('--proc /proc --dev /dev');
    expect(args.join(' ')).toContain(`--size ${512 * 1024 ** 2} --tmpfs /tmp`);
    expect(args.join(' ')).toMatch(/--size \d+ --tmpfs \/dev\/shm/);
  });

  it('clears the environment and sets exactly the given variables', () => {
    const args = options(buildBubblewrapArgs(run({ env: { PATH: '/usr/bin', HOME: '/tmp', GREETING: 'a b "c"' } })));
    const clear = args.indexOf('--clearenv');
    const setenv = args.flatMap((arg, i) => (arg === '--setenv' ? [args.slice(i + 1, i + 3)] : []));
    expect(clear).toBeGreaterThan(-1);
    expect(args.indexOf('--setenv')).toBeGreaterThan(clear);
    expect(setenv).toEqual([
      ['PATH', '/usr/bin'],
      ['HOME', '/tmp'],
      ['GREETING', 'a b "c"'],
    ]);
  });

  it('runs the command through prlimit and /bin/sh -c with the limits of the run', () => {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, cpuTimeSec: 30, memoryBytes: 1024, maxProcesses: 50 };
    const args = buildBubblewrapArgs(run({ limits, command: 'echo "$HOME" && exit 3' }));
    const command = args.slice(args.indexOf('--') + 1);
    expect(command).toEqual([
      '/usr/bin/prlimit',
      '--cpu=30:31',
      '--data=1024',
      `--fsize=${DEFAULT_SANDBOX_LIMITS.diskBytes}`,
      '--core=0',
      '--nproc=50',
      '--',
      '/bin/sh',
      '-c',
      'echo "$HOME" && exit 3',
    ]);
  });

  it('keeps the sync fd open so the end of every sandboxed process can be seen', () => {
    const args = options(buildBubblewrapArgs(run()));
    expect(args.slice(args.indexOf('--sync-fd'), args.indexOf('--sync-fd') + 2)).toEqual(['--sync-fd', '3']);
  });
});

describe('buildProbeArgs', () => {
  it('builds the same namespaces with only the program folders, to run /bin/true', () => {
    const args = buildProbeArgs(mergedUsr);
    expect(args.slice(0, 3)).toEqual(['--unshare-all', '--unshare-user', '--disable-userns']);
    expect(args.slice(-2)).toEqual(['--', '/bin/true']);
  });
});
