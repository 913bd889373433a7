import { z } from 'zod';
import { NODE_NAME } from './queues';

const NAME = /^[a-z0-9][a-z0-9_-]{0,47}$/;
const name = (what: string) => z.string().regex(NAME, `a ${what} name: lower-case letters, digits, _ and -, at most 48`);
const labels = z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'label keys are lower-case, dots allowed'), z.string()).default({});

/** An IPv4 address, four octets of 0-255. Pure. */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** An IPv4 CIDR block whose host bits are zero, e.g. 10.20.0.0/24. Pure. */
export function isCidr(text: string): boolean {
  const [ip, bits, extra] = text.split('/');
  if (extra !== undefined || ip === undefined || bits === undefined || !isIPv4(ip) || !/^\d{1,2}$/.test(bits) || Number(bits) > 32)
    return false;
  return ipv4Value(ip) % blockSize(bits) === 0;
}

/** Whether an IPv4 address lies inside a CIDR block. Pure. */
export function inCidr(address: string, cidr: string): boolean {
  const [ip, bits] = cidr.split('/');
  const start = ipv4Value(ip as string);
  const value = ipv4Value(address);
  return value >= start && value < start + blockSize(bits as string);
}

/** An IPv4 address as a number, and the number of addresses in a block of this prefix length. Pure. */
function ipv4Value(address: string): number {
  return address.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}
function blockSize(prefixBits: string): number {
  return 2 ** (32 - Number(prefixBits));
}

const volumeSchema = z.strictObject({
  name: name('volume'),
  node: z
    .string()
    .regex(NODE_NAME, 'a node name as `docker node ls` shows it')
    .optional()
    .describe('named volumes are node-local: the node it lives on (default: the manager the docker queue talks to)'),
  driver: z.string().min(1).default('local'),
  driverOpts: z.record(z.string(), z.string()).default({}),
  labels,
});

const networkSchema = z
  .strictObject({
    name: name('network'),
    attachable: z.boolean().default(true),
    subnet: z.string().refine(isCidr, 'not an IPv4 CIDR block with zero host bits, e.g. 10.20.0.0/24').optional(),
    gateway: z.string().refine(isIPv4, 'not an IPv4 address').optional(),
    labels,
  })
  .superRefine((n, ctx) => {
    if (n.gateway !== undefined && n.subnet === undefined) {
      ctx.addIssue({ code: 'custom', path: ['gateway'], message: 'a gateway needs a subnet' });
    } else if (n.gateway !== undefined && n.subnet !== undefined && !inCidr(n.gateway, n.subnet)) {
      ctx.addIssue({ code: 'custom', path: ['gateway'], message: `${n.gateway} is not inside subnet ${n.subnet}` });
    }
  });

const secretSchema = z
  .strictObject({
    name: name('secret'),
    generate: z
      .strictObject({
        length: z.number().int().min(8).max(256).default(32),
        alphabet: z
          .string()
          .min(10, 'at least 10 distinct characters')
          .default('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
      })
      .optional(),
    file: z
      .string()
      .regex(/^\/\S*$/, 'an absolute path on the manager worker')
      .optional(),
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable of the manager's worker")
      .optional(),
    version: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('for a generated secret: raise it to rotate (a file or variable rotates when its value changes)'),
    keep: z.number().int().min(1).max(100).default(2).describe('versions kept after a rotation; older ones no service uses are removed'),
    labels,
  })
  .superRefine((s, ctx) => {
    const sources = [s.generate, s.file, s.env].filter((v) => v !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of generate, file, env' });
  });

const envName = (what: string) => z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, `${what}: the name of an environment variable`);

const swarmSchema = z
  .strictObject({
    advertiseAddr: z
      .string()
      .refine(isIPv4, 'not an IPv4 address')
      .describe("the manager's address the nodes reach it on (`docker swarm init --advertise-addr`), when it is not in a swarm yet"),
    dataPathPort: z
      .number()
      .int()
      .min(1024)
      .max(49151)
      .optional()
      .describe("the overlay networks' VXLAN port (default 4789); fixed when the swarm is created"),
    nodes: z
      .array(
        z.strictObject({
          name: z.string().regex(NODE_NAME, 'a node hostname; its worker runs `sciops worker --node NAME`'),
          advertiseAddr: z.string().refine(isIPv4, 'not an IPv4 address').optional().describe('the address the node joins with'),
          labels: labels.describe('node labels that placement constraints use, e.g. gpu: "true"'),
        }),
      )
      .default([])
      .describe(
        'nodes that must be in the swarm (joined through their own worker) and their labels; the manager may be listed for its labels',
      ),
  })
  .superRefine((swarm, ctx) => {
    const seen = new Set<string>();
    swarm.nodes.forEach((n, i) => {
      if (seen.has(n.name)) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: `"${n.name}" is listed twice` });
      seen.add(n.name);
    });
  });

const updateOrder = z.enum(['stop-first', 'start-first']).default('stop-first');
const updateConfig = {
  parallelism: z.number().int().min(0).default(1).describe('tasks updated at once (0: all)'),
  delaySeconds: z.number().int().min(0).max(3600).default(0),
  order: updateOrder,
};

const serviceSchema = z.strictObject({
  name: name('service'),
  image: z.string().min(1, 'name an image'),
  command: z.array(z.string()).optional(),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'), z.string())
    .default({}),
  secrets: z.array(name('secret')).default([]).describe('mounted at /run/secrets/<name>'),
  volumes: z
    .array(
      z.strictObject({
        source: name('volume'),
        target: z.string().regex(/^\/\S*$/, 'an absolute path'),
        readOnly: z.boolean().default(false),
      }),
    )
    .default([]),
  networks: z.array(name('network')).default([]),
  ports: z
    .array(
      z.strictObject({
        published: z.number().int().min(1).max(65535),
        target: z.number().int().min(1).max(65535),
        protocol: z.enum(['tcp', 'udp']).default('tcp'),
      }),
    )
    .default([]),
  replicas: z.number().int().min(0).max(1000).default(1),
  constraints: z.array(z.string().regex(/^\S+\s*(==|!=)\s*\S+$/, 'a swarm constraint such as node.labels.gpu==true')).default([]),
  resources: z.strictObject({ cpus: z.number().positive().optional(), memoryMb: z.number().int().min(6).optional() }).default({}),
  labels,
  update: z
    .strictObject({ ...updateConfig, failureAction: z.enum(['pause', 'continue', 'rollback']).default('pause') })
    .default({ parallelism: 1, delaySeconds: 0, order: 'stop-first', failureAction: 'pause' }),
  rollback: z
    .strictObject({ ...updateConfig, failureAction: z.enum(['pause', 'continue']).default('pause') })
    .default({ parallelism: 1, delaySeconds: 0, order: 'stop-first', failureAction: 'pause' }),
  convergeSeconds: z.number().int().min(5).max(3600).default(120).describe('how long its tasks may take to run'),
});

const runnerSchema = z
  .strictObject({
    name: name('runner'),
    service: name('service').describe("the stack's service whose container runs gitlab-runner"),
    type: z.enum(['instance_type', 'group_type', 'project_type']).default('instance_type'),
    groupId: z.number().int().positive().optional(),
    projectId: z.number().int().positive().optional(),
    executor: z.enum(['shell', 'docker', 'docker-autoscaler', 'kubernetes', 'custom']).default('docker'),
    dockerImage: z.string().min(1).optional().describe('the default job image (the docker executor needs one)'),
    tags: z.array(z.string().regex(/^[^,\s]+$/, 'a tag without commas or spaces')).default([]),
    runUntagged: z.boolean().default(false),
    onlineSeconds: z.number().int().min(5).max(3600).default(120).describe('how long the runner may take to come online'),
  })
  .superRefine((r, ctx) => {
    if (r.type === 'group_type' && r.groupId === undefined)
      ctx.addIssue({ code: 'custom', path: ['groupId'], message: 'a group runner needs groupId' });
    if (r.type === 'project_type' && r.projectId === undefined)
      ctx.addIssue({ code: 'custom', path: ['projectId'], message: 'a project runner needs projectId' });
    if (r.executor === 'docker' && r.dockerImage === undefined)
      ctx.addIssue({ code: 'custom', path: ['dockerImage'], message: 'the docker executor needs a default job image' });
  });

const migrationSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'a name such as 001_create_tables; steps run in the order given'),
    sql: z.string().min(1).optional().describe('SQL applied once, in a transaction'),
    file: z
      .string()
      .regex(/^\/\S*$/, 'an absolute path to a .sql file on the db worker')
      .optional(),
    exec: z
      .strictObject({
        service: name('service'),
        command: z.array(z.string()).min(1, 'the command to run in a running task of the service'),
        unless: z
          .array(z.string())
          .min(1, 'the idempotence guard: a command that exits 0 when the step is already done')
          .describe('the idempotence guard: a command that exits 0 when the step is already done'),
      })
      .optional(),
  })
  .superRefine((m, ctx) => {
    if ([m.sql, m.file, m.exec].filter((v) => v !== undefined).length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of sql, file, exec' });
    }
  });

/** A platform stack: what `sciops deploy` makes exist on the swarm. */
export const stackSpecSchema = z
  .strictObject({
    name: name('stack'),
    swarm: swarmSchema.optional().describe('init the swarm on the manager if needed, join nodes, label them'),
    volumes: z.array(volumeSchema).default([]),
    networks: z.array(networkSchema).default([]),
    secrets: z.array(secretSchema).default([]),
    services: z.array(serviceSchema).default([]),
    database: z
      .strictObject({
        urlEnv: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable')
          .default('DATABASE_URL')
          .describe("the variable, on the db worker, holding the platform database's URL (never the URL itself)"),
      })
      .default({ urlEnv: 'DATABASE_URL' }),
    gitlab: z
      .strictObject({
        url: z.string().regex(/^https?:\/\/\S+$/, 'the GitLab base URL, e.g. https://gitlab.example.org'),
        tokenEnv: envName('tokenEnv')
          .default('GITLAB_TOKEN')
          .describe("the variable, on the manager's worker, holding an access token with the create_runner scope"),
      })
      .optional(),
    runners: z.array(runnerSchema).default([]).describe('GitLab runners registered in a service container after it converged'),
    migrations: z.array(migrationSchema).default([]).describe('after the services converged, in order; each applied once'),
  })
  .superRefine((stack, ctx) => {
    for (const kind of ['volumes', 'networks', 'secrets', 'services', 'runners'] as const) {
      const seen = new Set<string>();
      stack[kind].forEach((item, i) => {
        if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [kind, i, 'name'], message: `"${item.name}" is defined twice` });
        seen.add(item.name);
      });
    }
    const defined = (kind: 'volumes' | 'networks' | 'secrets') => new Set(stack[kind].map((x) => x.name));
    const volumes = defined('volumes');
    const networks = defined('networks');
    const secrets = defined('secrets');
    const migrationNames = new Set<string>();
    stack.migrations.forEach((m, i) => {
      if (migrationNames.has(m.name))
        ctx.addIssue({ code: 'custom', path: ['migrations', i, 'name'], message: `"${m.name}" is defined twice` });
      migrationNames.add(m.name);
      if (m.exec !== undefined && !stack.services.some((s) => s.name === m.exec?.service)) {
        ctx.addIssue({ code: 'custom', path: ['migrations', i, 'exec', 'service'], message: `no service "${m.exec.service}" in services` });
      }
    });
    if (stack.runners.length > 0 && stack.gitlab === undefined) {
      ctx.addIssue({ code: 'custom', path: ['gitlab'], message: 'runners need gitlab: { url, tokenEnv }' });
    }
    stack.runners.forEach((r, i) => {
      if (!stack.services.some((s) => s.name === r.service))
        ctx.addIssue({ code: 'custom', path: ['runners', i, 'service'], message: `no service "${r.service}" in services` });
    });
    stack.services.forEach((service, i) => {
      service.volumes.forEach((v, j) => {
        if (!volumes.has(v.source))
          ctx.addIssue({ code: 'custom', path: ['services', i, 'volumes', j, 'source'], message: `no volume "${v.source}" in volumes` });
      });
      service.networks.forEach((n, j) => {
        if (!networks.has(n))
          ctx.addIssue({ code: 'custom', path: ['services', i, 'networks', j], message: `no network "${n}" in networks` });
      });
      service.secrets.forEach((s, j) => {
        if (!secrets.has(s)) ctx.addIssue({ code: 'custom', path: ['services', i, 'secrets', j], message: `no secret "${s}" in secrets` });
      });
    });
  });

export type StackSpec = z.infer<typeof stackSpecSchema>;
export type ServiceSpec = StackSpec['services'][number];
export type VolumeSpec = StackSpec['volumes'][number];
export type NetworkSpec = StackSpec['networks'][number];
export type SecretSpec = StackSpec['secrets'][number];
export type MigrationSpec = StackSpec['migrations'][number];
export type SwarmSpec = NonNullable<StackSpec['swarm']>;
export type RunnerSpec = StackSpec['runners'][number];
export type GitlabSpec = NonNullable<StackSpec['gitlab']>;

/** How a stack's runner is known in GitLab: its description. Teardown finds the stack's runners by it. */
export function runnerDescription(stack: string, runner: string): string {
  return `sciops:${stack}/${runner}`;
}

/** Labels on everything sciops deploys: which stack it belongs to, and the hash of what it was made from. */
export const STACK_LABEL = 'sciops.stack';
export const SPEC_HASH_LABEL = 'sciops.spec-hash';

/** The name a stack's resource has on the swarm, as `docker stack deploy` would name it. */
export function resourceName(stack: string, name: string): string {
  return `${stack}_${name}`;
}

export function deployWorkflowId(stack: string): string {
  return `deploy-${stack}`;
}

/** What deployStack returns (and `sciops deploy` prints): every resource and what happened to it. */
export interface DeployReport {
  readonly stack: string;
  readonly changes: ReadonlyArray<{ kind: string; name: string; change: 'create' | 'update' | 'unchanged'; node?: string }>;
  /** True when the deploy changed nothing. */
  readonly unchanged: boolean;
  /** Migration steps applied (or exec steps run) by this deploy; the others had been done before. */
  readonly migrated: readonly string[];
  /** Generated secrets: where their value waits, once, for the operator (mode 0600, on the manager's worker). */
  readonly secretFiles: readonly string[];
}

export const teardownInputSchema = z.strictObject({
  stack: name('stack'),
  purge: z.boolean().default(false).describe('also remove the volumes (their data!) and secrets'),
});

export interface TeardownReport {
  readonly stack: string;
  readonly removed: readonly string[];
  /** Kept because purge was not asked for. */
  readonly kept: readonly string[];
}
