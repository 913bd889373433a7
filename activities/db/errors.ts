/**
 * Turns what node-postgres throws into one sentence naming DATABASE_URL and what to change.
 * Pure: `url` is the already redacted URL.
 */
export function explainPgError(err: unknown, url: string): { summary: string; fix: string } {
  const e = err as { code?: string; message?: string };
  const detail = e.message ?? String(err);
  switch (e.code) {
    case 'ECONNREFUSED':
      return {
        summary: `no PostgreSQL answers at DATABASE_URL=${url}: connection refused`,
        fix: 'start PostgreSQL, or fix the host and port in DATABASE_URL',
      };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { summary: `the host in DATABASE_URL=${url} cannot be resolved`, fix: 'fix the host name in DATABASE_URL' };
    case 'ETIMEDOUT':
      return { summary: `connecting to DATABASE_URL=${url} timed out`, fix: 'check the host, port and firewall for DATABASE_URL' };
    case '28P01':
    case '28000':
      return {
        summary: `PostgreSQL refused the login in DATABASE_URL=${url}: ${detail}`,
        fix: 'fix the user or password in DATABASE_URL (or pg_hba.conf on the server)',
      };
    case '3D000':
      return {
        summary: `the database in DATABASE_URL=${url} does not exist`,
        fix: 'create it (createdb <name>) or fix the database name in DATABASE_URL',
      };
  }
  return { summary: `PostgreSQL at DATABASE_URL=${url} failed: ${detail}`, fix: 'check DATABASE_URL and the server log' };
}
