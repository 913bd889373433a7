import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { PayloadCodec } from '@temporalio/common';
import type { Command } from 'commander';
import { loadCodecTokens, loadPayloadCodec } from '../../common/codec-keys';
import { ConfigError } from '../../common/errors';
import { newCodecKey, parseCodecKeys } from '../../common/payload-encryption';
import { createCodecServer, isLoopbackHost } from '../codec-server';
import { type Output, withOutput } from '../output';

export interface CodecServerOptions {
  readonly listen: string;
  readonly uiOrigin: string[];
  /** Host names it answers to besides loopback and the UI origins' hosts (the name a proxy or browser uses). */
  readonly allowHost?: string[];
  /** Bearer tokens it requires; none: only a loopback-only server may run (`sciops dev`). */
  readonly tokens?: readonly string[];
}

/** Parses `host:port`; the error names the option. */
export function parseListen(text: string, option = '--listen'): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon < 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(option, `"${text}" is not host:port, e.g. 127.0.0.1:8234`);
  }
  return { host: text.slice(0, colon), port };
}

/** Starts a codec server over `codec`; resolves with the server once it listens. */
export async function startCodecServer(codec: PayloadCodec, options: CodecServerOptions): Promise<{ server: Server; url: string }> {
  for (const origin of options.uiOrigin) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin))
      throw new ConfigError('--ui-origin', `"${origin}" is not an origin such as http://127.0.0.1:8233`);
  }
  const hosts = options.allowHost ?? [];
  for (const name of hosts) {
    if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/.test(name))
      throw new ConfigError('--allow-host', `"${name}" is not a host name such as codec.example.org (no scheme, no port)`);
  }
  const { host, port } = parseListen(options.listen);
  const tokens = options.tokens ?? [];
  // Without tokens, only this machine may reach it, by loopback names only: `sciops dev`, or one operator's host.
  const names = [host, ...hosts, ...options.uiOrigin.map((o) => new URL(o).hostname)];
  const beyond = names.find((name) => !isLoopbackHost(name));
  if (tokens.length === 0 && beyond !== undefined) {
    throw new ConfigError(
      'SCIOPS_CODEC_TOKENS_FILE',
      `not set, and the codec server would answer beyond loopback (${beyond}): it decrypts for whoever calls it, so give it a file of bearer tokens (one per line, e.g. \`openssl rand -hex 32\`), or listen on 127.0.0.1 with loopback origins only`,
    );
  }
  const server = createCodecServer(codec, { origins: options.uiOrigin, hosts, tokens });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ConfigError('--listen', `${options.listen} cannot be listened on (${err.code ?? err.message})`)),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}` };
}

/** Stops listening and drops open keep-alive connections (a browser's), which would otherwise keep the process up. */
export function stopCodecServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

/**
 * Adds a new key at the top of a keys file (created 0600 if missing): from now on it encrypts, and the keys
 * below it still decrypt what they wrote. Prints the id and a fingerprint, never the key.
 */
export function addCodecKey(file: string, id: string): { file: string; id: string; fingerprint: string; keys: number } {
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const keys = existing.trim() === '' ? [] : parseCodecKeys(existing, file);
  if (keys.some((k) => k.id === id)) throw new ConfigError('--id', `"${id}" is already in ${file}: choose a new id (e.g. a date)`);
  const line = newCodecKey(id);
  const temp = `${file}.partial-${process.pid}`;
  writeFileSync(temp, `${line}\n${existing}`, { mode: 0o600 });
  renameSync(temp, file);
  return {
    file,
    id,
    fingerprint: createHash('sha256')
      .update(line.slice(id.length + 1))
      .digest('hex')
      .slice(0, 16),
    keys: keys.length + 1,
  };
}

export function registerCodec(program: Command): void {
  program
    .command('codec-server')
    .description(
      'serve /encode and /decode over the payload keys, for the Web UI (its Codec Server setting) and `temporal --codec-endpoint`',
    )
    .option('--listen <host:port>', 'where to listen', '127.0.0.1:8234')
    .option('--ui-origin <url>', 'a Web UI origin allowed to call it (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option(
      '--allow-host <name>',
      'a host name it answers to besides loopback and the UI origins (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .addHelpText(
      'after',
      '\nExamples:\n  SCIOPS_CODEC_KEYS_FILE=/etc/sciops/codec.keys sciops codec-server --ui-origin http://127.0.0.1:8233\n  SCIOPS_CODEC_TOKENS_FILE=/etc/sciops/codec.tokens sciops codec-server --listen 0.0.0.0:8081 --allow-host codec.example.org\n\nIt refuses a foreign Host or Origin (403) and, with SCIOPS_CODEC_TOKENS_FILE, a request without one of its\nbearer tokens (401); without tokens it only runs on loopback. See docs/operate-sciops.md.',
    )
    .action(async (options: CodecServerOptions, command: Command) => {
      const codec = loadPayloadCodec(process.env);
      if (codec === undefined) {
        throw new ConfigError('SCIOPS_CODEC_KEYS_FILE', 'not set (nor SCIOPS_CODEC_KEYS): the codec server needs the keys the workers use');
      }
      const tokens = loadCodecTokens(process.env) ?? [];
      const { server, url } = await startCodecServer(codec, { ...options, tokens });
      if (command.optsWithGlobals().json)
        process.stdout.write(`${JSON.stringify({ event: 'listening', url, origins: options.uiOrigin })}\n`);
      else
        process.stderr.write(
          `sciops codec-server: listening on ${url} (origins: ${options.uiOrigin.join(', ') || 'none'}; ${tokens.length === 0 ? 'loopback only, no token' : `${tokens.length} bearer token(s)`}); Ctrl-C stops it\n`,
        );
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await stopCodecServer(server);
    });
  const key = program.command('codec-key').description('payload encryption keys');
  key
    .command('add <file>')
    .description('put a new AES-256 key first in a keys file (0600): it encrypts from now on, older keys keep decrypting')
    .option('--id <id>', 'the key id (default: today, e.g. k20261122)')
    .action((file: string, options: { id?: string }, command: Command) =>
      withOutput(
        async () => addCodecKey(file, options.id ?? `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`),
        (added: ReturnType<typeof addCodecKey>, out: Output) => {
          out.print(
            `added key ${added.id} (sha256 ${added.fingerprint}) to ${added.file}: it encrypts from now on; ${added.keys} key(s) decrypt`,
          );
          return 0;
        },
      )(undefined, command),
    );
}
