import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { PayloadCodec } from '@temporalio/common';
import type { Command } from 'commander';
import { loadPayloadCodec } from '../../common/codec-keys';
import { ConfigError } from '../../common/errors';
import { newCodecKey, parseCodecKeys } from '../../common/payload-encryption';
import { createCodecServer } from '../codec-server';
import { type Output, withOutput } from '../output';

export interface CodecServerOptions {
  readonly listen: string;
  readonly uiOrigin: string[];
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
  const { host, port } = parseListen(options.listen);
  const server = createCodecServer(codec, options.uiOrigin);
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
    .addHelpText(
      'after',
      '\nExamples:\n  SCIOPS_CODEC_KEYS_FILE=/etc/sciops/codec.keys sciops codec-server --ui-origin http://127.0.0.1:8233\n\nIt decrypts whatever it is sent: keep it on loopback or behind the same authentication as the Web UI.',
    )
    .action(async (options: CodecServerOptions, command: Command) => {
      const codec = loadPayloadCodec(process.env);
      if (codec === undefined) {
        throw new ConfigError('SCIOPS_CODEC_KEYS_FILE', 'not set (nor SCIOPS_CODEC_KEYS): the codec server needs the keys the workers use');
      }
      const { server, url } = await startCodecServer(codec, options);
      if (command.optsWithGlobals().json)
        process.stdout.write(`${JSON.stringify({ event: 'listening', url, origins: options.uiOrigin })}\n`);
      else
        process.stderr.write(
          `sciops codec-server: listening on ${url} (origins: ${options.uiOrigin.join(', ') || 'none'}); Ctrl-C stops it\n`,
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
