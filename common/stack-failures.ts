/** Failure types of stack activities that no retry can fix. */
export const NOT_CONVERGED_TYPE = 'ServiceNotConverged';
export const SECRET_REJECTED_TYPE = 'SecretRejected';
/** The spec cannot be deployed on this swarm (a volume on an unknown node, a changed network): nothing was touched. */
export const STACK_REJECTED_TYPE = 'StackRejected';
/** A migration or exec step failed; nothing of that step was applied. */
export const MIGRATION_FAILED_TYPE = 'MigrationFailed';
/** The swarm refused a service's spec (HTTP 400: a port in use, an invalid constraint...): retrying cannot help. */
export const SERVICE_REJECTED_TYPE = 'ServiceRejected';
/** A node belongs to another swarm, or the docker queue's engine is a swarm worker: an operator must decide. */
export const SWARM_CONFLICT_TYPE = 'SwarmConflict';
/** A GitLab runner did not come online in time, or GitLab refused a request that no retry can fix. */
export const RUNNER_FAILED_TYPE = 'RunnerFailed';
/** A config's content cannot be had on the manager's worker (its file is unreadable, its variable unset). */
export const CONFIG_REJECTED_TYPE = 'ConfigRejected';
/** The manager worker's docker config (registry credentials) cannot be read or a credential helper failed. */
export const REGISTRY_AUTH_FAILED_TYPE = 'RegistryAuthFailed';
