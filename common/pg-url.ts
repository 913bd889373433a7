import { ConfigError } from './errors';

/**
 * PostgreSQL URLs as node-postgres reads them (pg-connection-string), turned into the environment libpq's
 * tools (pg_dump, psql) read, so that both reach the same server with the same TLS settings. Pure; messages
 * name the setting (the variable holding the URL), never the URL itself: it holds a password.
 */

/** The parts of a URL both sides agree on; `params` are its query parameters other than these. */
export interface PgUrl {
  readonly host: string;
  readonly port: string;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * The libpq parameters a URL may carry, each with the variable that sets it for pg_dump and psql. A query
 * parameter not listed here is refused: left out, it would make the tools connect otherwise than the row
 * counts did (another server, weaker TLS trust) without anyone knowing.
 */
const LIBPQ_VARIABLES: Readonly<Record<string, string>> = {
  hostaddr: 'PGHOSTADDR',
  passfile: 'PGPASSFILE',
  service: 'PGSERVICE',
  options: 'PGOPTIONS',
  application_name: 'PGAPPNAME',
  client_encoding: 'PGCLIENTENCODING',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
  load_balance_hosts: 'PGLOADBALANCEHOSTS',
  require_auth: 'PGREQUIREAUTH',
  channel_binding: 'PGCHANNELBINDING',
  sslmode: 'PGSSLMODE',
  sslnegotiation: 'PGSSLNEGOTIATION',
  sslcompression: 'PGSSLCOMPRESSION',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslcertmode: 'PGSSLCERTMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcrl: 'PGSSLCRL',
  sslcrldir: 'PGSSLCRLDIR',
  sslsni: 'PGSSLSNI',
  requirepeer: 'PGREQUIREPEER',
  ssl_min_protocol_version: 'PGSSLMINPROTOCOLVERSION',
  ssl_max_protocol_version: 'PGSSLMAXPROTOCOLVERSION',
  gssencmode: 'PGGSSENCMODE',
  krbsrvname: 'PGKRBSRVNAME',
  gsslib: 'PGGSSLIB',
  gssdelegation: 'PGGSSDELEGATION',
};

/** node-postgres' own spellings, which libpq does not read: what to write instead. */
const NODE_ONLY: Readonly<Record<string, string>> = {
  ssl: 'write sslmode=verify-full (or sslmode=require, or sslmode=disable) instead, which both node-postgres and libpq read',
  uselibpqcompat: 'remove it, and give sslmode and sslrootcert as libpq means them',
};

const FORM =
  'write it as postgresql://user:password@host:5432/database, or postgresql://user:password@/database?host=/var/run/postgresql for a unix socket';

/** Parses a postgres:// or postgresql:// URL, a host-less one (`user:pw@/db?host=/socket/dir`) included. */
export function parsePgUrl(url: string, setting: string): PgUrl {
  const scheme = /^(postgres|postgresql):\/\/([^/?#]*)/i.exec(url);
  if (scheme === null) throw new ConfigError(setting, `not a postgres:// or postgresql:// URL; ${FORM}`);
  // WHATWG URL refuses credentials without a host; node-postgres reads that form with a stand-in host, as here.
  const hostless = scheme[2]?.endsWith('@') === true;
  let u: URL;
  try {
    u = new URL(hostless ? url.replace(/@(?=[/?#]|$)/, '@sciops-no-host') : url);
  } catch {
    throw new ConfigError(setting, `not a valid URL; ${FORM} (percent-encode @ : / in the user name and password)`);
  }
  const query = Object.fromEntries(u.searchParams);
  const { host, port, user, password, ...params } = query;
  for (const name of Object.keys(params)) {
    if (name in NODE_ONLY) throw new ConfigError(setting, `query parameter ${name} is read by node-postgres only: ${NODE_ONLY[name]}`);
    if (!(name in LIBPQ_VARIABLES)) {
      throw new ConfigError(
        setting,
        `query parameter ${name} would not reach pg_dump and psql (libpq has no variable for it): remove it from the URL`,
      );
    }
  }
  if (params.sslmode === 'no-verify') {
    throw new ConfigError(setting, 'sslmode=no-verify is read by node-postgres only: write sslmode=require, which libpq reads');
  }
  const hostname = hostless ? '' : decodeURIComponent(u.hostname.replace(/^\[(.*)\]$/, '$1'));
  return {
    host: host || hostname || 'localhost',
    port: port || u.port || '5432',
    user: user || decodeURIComponent(u.username),
    password: password || decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)),
    params,
  };
}

/**
 * The variables pg_dump and psql need to connect where the URL says: host (a socket directory too), port,
 * user, database, and every other query parameter as its PG* variable. The password goes in PGPASSWORD, so
 * it never appears in a command line.
 */
export function libpqEnv(url: string, setting: string): Record<string, string> {
  const parts = parsePgUrl(url, setting);
  const env: Record<string, string> = {
    PGHOST: parts.host,
    PGPORT: parts.port,
    PGUSER: parts.user,
    PGPASSWORD: parts.password,
    PGDATABASE: parts.database,
  };
  for (const [name, value] of Object.entries(parts.params)) env[LIBPQ_VARIABLES[name] as string] = value;
  return env;
}

/** The same URL naming another database of its server (e.g. its maintenance database), all else kept as written. */
export function onDatabase(url: string, database: string, setting: string): string {
  parsePgUrl(url, setting);
  return url.replace(/^([a-z]+:\/\/[^/?#]*)(\/[^?#]*)?/i, (_, authority: string) => `${authority}/${encodeURIComponent(database)}`);
}
