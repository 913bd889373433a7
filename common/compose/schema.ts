import { z } from 'zod';
import {
  boolOrString,
  closed,
  driverOpts,
  type FlatIssue,
  flattenIssues,
  int,
  listOrDict,
  NAME,
  NAME_HINT,
  open,
  optional,
  patternRecord,
  str,
  stringOrList,
  withExtensions,
} from './schema-parts';
import { service } from './schema-service';

/**
 * sciops' schema of a compose file: the Compose Specification's JSON schema (compose-spec `schema/compose-spec.json`)
 * written out by hand in zod, so that it accepts and refuses the same documents (a test holds it to that, with the
 * JSON schema as referee). It runs on the document after interpolation, as docker validates it. Whether sciops can
 * deploy what it accepts (forbidden keys, ignored keys, short syntax that does not parse) is checked afterwards.
 */

const external = z.union([z.boolean(), z.string(), withExtensions(optional({ name: str }))]);

const network = z.union([
  z.null(),
  withExtensions(
    optional({
      name: str,
      driver: str,
      driver_opts: driverOpts,
      ipam: withExtensions(
        optional({
          driver: str,
          config: z.array(
            withExtensions(optional({ subnet: str, ip_range: str, gateway: str, aux_addresses: patternRecord(/^.+$/, str, true) })),
          ),
          options: patternRecord(/^.+$/, str, true),
        }),
      ),
      external,
      internal: boolOrString,
      enable_ipv4: boolOrString,
      enable_ipv6: boolOrString,
      attachable: boolOrString,
      labels: listOrDict,
    }),
  ),
]);

const volume = z.union([
  z.null(),
  withExtensions(optional({ name: str, driver: str, driver_opts: driverOpts, external, labels: listOrDict })),
]);

const secret = withExtensions(
  optional({
    name: str,
    environment: str,
    file: str,
    external: z.union([z.boolean(), z.string(), open(optional({ name: str }))]),
    labels: listOrDict,
    driver: str,
    driver_opts: driverOpts,
    template_driver: str,
  }),
);

const config = withExtensions(
  optional({
    name: str,
    content: str,
    environment: str,
    file: str,
    external: z.union([z.boolean(), z.string(), open(optional({ name: str }))]),
    labels: listOrDict,
    template_driver: str,
  }),
);

const model = withExtensions({
  model: str,
  ...optional({ name: str, context_size: int, runtime_flags: z.array(str) }),
});

const include = z.union([str, closed(optional({ path: stringOrList, env_file: stringOrList, project_directory: str }))]);

export const composeSchema = withExtensions(
  optional({
    version: str,
    name: str,
    include: z.array(include),
    services: patternRecord(NAME, service, true, NAME_HINT),
    models: patternRecord(NAME, model, false),
    networks: patternRecord(NAME, network, false),
    volumes: patternRecord(NAME, volume, true, NAME_HINT),
    secrets: patternRecord(NAME, secret, true, NAME_HINT),
    configs: patternRecord(NAME, config, true, NAME_HINT),
  }),
);

/** Validates an interpolated compose document; returns one issue per problem, empty when the document is valid. */
export function validateComposeSchema(document: unknown): FlatIssue[] {
  const result = composeSchema.safeParse(document, { reportInput: true });
  return result.success ? [] : flattenIssues(result.error.issues);
}
