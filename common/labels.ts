/**
 * Every label (and tag) sciops puts on what it makes, in one place: the Docker objects of stacks, experiments
 * and backups, and Batch job definitions. Specs may not set `sciops.*` labels (common/spec-fields): these are
 * how sciops finds its own objects again, so they are never an input.
 */

/** On everything a stack deploys: the stack it belongs to. */
export const STACK_LABEL = 'sciops.stack';
/** On a stack's objects and on Batch job definitions (as a tag): the hash of the spec it was made from. */
export const SPEC_HASH_LABEL = 'sciops.spec-hash';
/** The label `docker stack deploy` puts on a stack's objects: `docker stack ls/ps/services` find sciops' stacks too. */
export const NAMESPACE_LABEL = 'com.docker.stack.namespace';
/** The service label `docker stack deploy` records the image in. */
export const IMAGE_LABEL = 'com.docker.stack.image';

/** On a stack's secret: the secret's name in the spec. */
export const SECRET_LABEL = 'sciops.secret';
/** On a stack's config: the config's name in the spec. */
export const CONFIG_LABEL = 'sciops.config';
/** The content's fingerprint, on secrets and configs alike (never the content). */
export const FINGERPRINT_LABEL = 'sciops.fingerprint';
/** The version number of a stack's secret. */
export const SECRET_VERSION_LABEL = 'sciops.secret-version';
/** The version number of a stack's config. */
export const CONFIG_VERSION_LABEL = 'sciops.config-version';
/** On the config that records a stack's GitLab runners. */
export const RECORD_LABEL = 'sciops.record';

/** On every container, service and job of an experiment: its id, how a retried start finds it. */
export const EXPERIMENT_LABEL = 'sciops.experiment';
/** The experiment's type, beside its id. */
export const EXPERIMENT_TYPE_LABEL = 'sciops.experiment.type';

/** On a service that sciops scaled down: the replicas it had, to scale it back to. */
export const REPLICAS_LABEL = 'sciops.replicas-before-pause';
/** The id of the workflow holding it at 0. */
export const PAUSED_BY_LABEL = 'sciops.paused-by';
/**
 * On a service of sciops itself (its Temporal server, its database, its workers) when it runs on the swarm:
 * never paused, since the workflow that would scale it back needs it running.
 */
export const CONTROL_PLANE_LABEL = 'sciops.control-plane';

/** On the helper container that dumps or restores a volume. */
export const VOLUME_HELPER_LABEL = 'sciops.volume-helper';
/** On a scratch volume: the mark of the verification that created it. */
export const SCRATCH_LABEL = 'sciops.scratch';
