/**
 * Turns what dockerode throws into one sentence for an operator: what failed, on which engine, what to do.
 * Pure: the caller passes the endpoint text (the DOCKER_HOST value).
 */
export function explainDockerError(err: unknown, endpoint: string): { summary: string; fix: string } {
  const e = err as { code?: string; statusCode?: number; message?: string; json?: { message?: string } };
  const detail = e.json?.message ?? e.message ?? String(err);
  switch (e.code) {
    case 'ENOENT':
      return {
        summary: `no Docker engine at DOCKER_HOST=${endpoint}: the socket does not exist`,
        fix: 'start dockerd on this machine, or set DOCKER_HOST to an engine that runs',
      };
    case 'ECONNREFUSED':
      return {
        summary: `no Docker engine answers at DOCKER_HOST=${endpoint}: connection refused`,
        fix: 'start dockerd, or set DOCKER_HOST to an engine that runs',
      };
    case 'EACCES':
      return {
        summary: `permission denied on the Docker socket at DOCKER_HOST=${endpoint}`,
        fix: 'run the worker as a user in the docker group (or root)',
      };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
      return {
        summary: `the Docker engine at DOCKER_HOST=${endpoint} cannot be reached (${e.code})`,
        fix: 'check the host name and port in DOCKER_HOST and that the engine listens there',
      };
  }
  if (e.statusCode !== undefined) {
    return {
      summary: `the Docker engine at DOCKER_HOST=${endpoint} answered ${e.statusCode}: ${detail}`,
      fix: 'see the engine log (journalctl -u docker, or the dockerd output) for the cause',
    };
  }
  return { summary: `Docker engine at DOCKER_HOST=${endpoint} failed: ${detail}`, fix: 'check that dockerd runs and DOCKER_HOST is right' };
}

/** The HTTP status the engine answered with, when it answered. */
export function engineStatus(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

/** The engine's own message (its JSON body), else the error's text. */
export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  return e.json?.message ?? e.message ?? String(err);
}

/** A catch handler that swallows one HTTP status (304: already started or stopped; 404: already gone). */
export function ignoreStatus(status: number) {
  return (err: unknown): undefined => {
    if (engineStatus(err) !== status) throw err;
    return undefined;
  };
}
