import { z } from 'zod';
import { normalPath } from './experiment-policy';
import { NODE_NAME } from './queues';
import { absolutePath, dockerObjectName, envName, inCidr, isCidr, isIPv4, labels, specName } from './spec-fields';
import { CONFIG_FILE_ROOTS_SETTING, envSourceProblem, SECRET_FILE_ROOTS_SETTING, type SourceKind } from './stack-sources';

/**
 * The stack's swarm objects other than services: volumes, networks, secrets and configs. Each is either
 * the stack's own (created as `<stack>_<name>`, or under `dockerName`) or `external`: looked up by its
 * name, never created, changed or removed.
 */

/** A file the manager's worker reads, under the roots its configuration names (checked there, with symlinks resolved). */
const sourceFile = (setting: string) =>
  absolutePath('on the manager worker')
    .refine((p) => normalPath(p) !== undefined, 'an absolute path without ".." segments')
    .describe(`a file on the manager's worker, under a directory of its ${setting}`);

/** A variable of the manager's worker, named with the prefix that worker gives stacks of this kind. */
const sourceEnv = (kind: SourceKind) =>
  envName('env').superRefine((name, ctx) => {
    const problem = envSourceProblem(kind, name);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

const external = z.boolean().default(false).describe('looked up by its name, never created, changed or removed by sciops');
const dockerName = (what: string) =>
  dockerObjectName(what).optional().describe(`its name on the swarm (compose \`name:\`); default <stack>_<name>`);

export const volumeSchema = z
  .strictObject({
    name: specName('volume'),
    dockerName: dockerName('volume'),
    external,
    node: z
      .string()
      .regex(NODE_NAME, 'a node name as `docker node ls` shows it')
      .optional()
      .describe('named volumes are node-local: the node it is created on (default: the manager the docker queue talks to)'),
    driver: z.string().min(1).optional().describe('the volume driver (default: the engine\'s, "local")'),
    driverOpts: z.record(z.string(), z.string()).optional(),
    labels,
  })
  .superRefine((v, ctx) => {
    if (v.external && (v.driver !== undefined || v.driverOpts !== undefined))
      ctx.addIssue({ code: 'custom', path: ['external'], message: 'an external volume takes no driver or driverOpts' });
  });

const ipamConfig = z
  .strictObject({
    subnet: z.string().refine(isCidr, 'not an IPv4 CIDR block with zero host bits, e.g. 10.20.0.0/24'),
    gateway: z.string().refine(isIPv4, 'not an IPv4 address').optional(),
    ipRange: z.string().refine(isCidr, 'not an IPv4 CIDR block').optional(),
  })
  .superRefine((c, ctx) => {
    if (c.gateway !== undefined && !inCidr(c.gateway, c.subnet))
      ctx.addIssue({ code: 'custom', path: ['gateway'], message: `${c.gateway} is not inside subnet ${c.subnet}` });
  });

export const networkSchema = z.strictObject({
  name: specName('network'),
  dockerName: dockerName('network'),
  external,
  driver: z.string().min(1).default('overlay'),
  driverOpts: z.record(z.string(), z.string()).optional(),
  attachable: z.boolean().default(true).describe('standalone containers (and experiments) may join it'),
  internal: z.boolean().default(false).describe('no traffic leaves the network'),
  ipam: z
    .strictObject({
      driver: z.string().min(1).optional(),
      config: z.array(ipamConfig).default([]),
    })
    .optional(),
  labels,
});

export const secretSchema = z
  .strictObject({
    name: specName('secret'),
    dockerName: dockerName('secret'),
    external,
    generate: z
      .strictObject({
        length: z.number().int().min(8).max(256).default(32),
        alphabet: z
          .string()
          .refine((a) => new Set(a).size >= 10, { message: 'at least 10 distinct characters' })
          .refine((a) => /^[\x21-\x7e]+$/.test(a), {
            message: 'printable ASCII characters only (no spaces, no letters a terminal or file may mangle)',
          })
          .default('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
      })
      .optional(),
    file: sourceFile(SECRET_FILE_ROOTS_SETTING).optional(),
    env: sourceEnv('secret').optional().describe("a SCIOPS_SECRET_* variable of the manager's worker holding the value"),
    version: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('for a generated secret: raise it to rotate (a file or variable rotates when its value changes)'),
    keep: z.number().int().min(1).max(100).default(2).describe('versions kept after a rotation; older ones no service uses are removed'),
    templateDriver: z.string().min(1).optional(),
    labels,
  })
  .superRefine((s, ctx) => {
    const sources = [s.generate, s.file, s.env].filter((v) => v !== undefined).length;
    if (s.external && sources > 0)
      ctx.addIssue({ code: 'custom', path: ['external'], message: 'an external secret has no generate, file or env' });
    if (!s.external && sources !== 1)
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of generate, file, env (or external: true)' });
  });

export const configSchema = z
  .strictObject({
    name: specName('config'),
    dockerName: dockerName('config'),
    external,
    file: sourceFile(CONFIG_FILE_ROOTS_SETTING).optional(),
    content: z.string().optional().describe('the config written inline'),
    env: sourceEnv('config').optional().describe("a SCIOPS_CONFIG_* variable of the manager's worker holding the content"),
    keep: z.number().int().min(1).max(100).default(2).describe('versions kept after the content changed; older unused ones are removed'),
    templateDriver: z.string().min(1).optional(),
    labels,
  })
  .superRefine((c, ctx) => {
    const sources = [c.file, c.content, c.env].filter((v) => v !== undefined).length;
    if (c.external && sources > 0)
      ctx.addIssue({ code: 'custom', path: ['external'], message: 'an external config has no file, content or env' });
    if (!c.external && sources !== 1)
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of file, content, env (or external: true)' });
  });

export type VolumeSpec = z.infer<typeof volumeSchema>;
export type NetworkSpec = z.infer<typeof networkSchema>;
export type SecretSpec = z.infer<typeof secretSchema>;
export type ConfigSpec = z.infer<typeof configSchema>;
