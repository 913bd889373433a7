import { readFileSync, statSync } from 'node:fs';
import type { DataConverter } from '@temporalio/common';
import { ConfigError } from './errors';
import { ACCEPT_PLAINTEXT_SETTING, AesGcmCodec, parseCodecKeys } from './payload-encryption';

type Env = Record<string, string | undefined>;

/** A file only its owner may read (keys, tokens): its text, or a ConfigError naming `setting`. */
function readPrivateFile(setting: string, file: string): string {
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(setting, `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if ((mode & 0o077) !== 0) throw new ConfigError(setting, `${file} can be read by others than its owner: \`chmod 600 ${file}\``);
  return text;
}

/** The text of `inline` or of the file `fileSetting` names (never both); undefined when neither is set. */
function inlineOrFile(env: Env, inline: string, fileSetting: string): { text: string; source: string } | undefined {
  const value = env[inline]?.trim() ?? '';
  const file = env[fileSetting]?.trim() ?? '';
  if (value !== '' && file !== '') {
    throw new ConfigError(inline, `set, and so is ${fileSetting}: keep them in one place, unset one of them`);
  }
  if (value !== '') return { text: value, source: inline };
  if (file === '') return undefined;
  return { text: readPrivateFile(fileSetting, file), source: `${fileSetting} (${file})` };
}

function acceptPlaintext(env: Env): boolean {
  const text = env[ACCEPT_PLAINTEXT_SETTING]?.trim().toLowerCase() ?? '';
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  throw new ConfigError(ACCEPT_PLAINTEXT_SETTING, `"${text}" is not true or false`);
}

/**
 * The payload codec the CLI, the workers, their Schedules and the codec server share: AES-256-GCM over the
 * keys in SCIOPS_CODEC_KEYS_FILE (a file only its owner can read) or SCIOPS_CODEC_KEYS; none when neither
 * is set. With keys, payloads that are not encrypted are refused unless SCIOPS_CODEC_ACCEPT_PLAINTEXT=true.
 * Throws a ConfigError naming the setting, never a key.
 */
export function loadPayloadCodec(env: Env): AesGcmCodec | undefined {
  const keys = inlineOrFile(env, 'SCIOPS_CODEC_KEYS', 'SCIOPS_CODEC_KEYS_FILE');
  const accept = acceptPlaintext(env);
  return keys === undefined ? undefined : new AesGcmCodec(parseCodecKeys(keys.text, keys.source), { acceptPlaintext: accept });
}

/** A codec server token: long enough not to be guessed, and nothing an HTTP header would mangle. */
const TOKEN = /^[\x21-\x7e]{32,512}$/;

/**
 * The bearer tokens the codec server accepts: SCIOPS_CODEC_TOKENS_FILE (one per line, `#` comments, mode
 * 0600) or SCIOPS_CODEC_TOKENS (comma-separated); undefined when neither is set. Make one with
 * `openssl rand -hex 32`. The error names the setting and the line, never a token.
 */
export function loadCodecTokens(env: Env): string[] | undefined {
  const found = inlineOrFile(env, 'SCIOPS_CODEC_TOKENS', 'SCIOPS_CODEC_TOKENS_FILE');
  if (found === undefined) return undefined;
  const tokens = found.text
    .split(/[\n,]/)
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
  if (tokens.length === 0) throw new ConfigError(found.source, 'holds no token; write one per line (e.g. `openssl rand -hex 32`)');
  tokens.forEach((token, i) => {
    if (!TOKEN.test(token)) {
      throw new ConfigError(
        found.source,
        `token ${i + 1} is not 32 to 512 printable characters without spaces (e.g. \`openssl rand -hex 32\`)`,
      );
    }
  });
  return tokens;
}

/** What a client (the CLI, a worker's own client, a test) converts payloads with: the codec, when there is one. */
export function clientDataConverter(codec: AesGcmCodec | undefined): DataConverter {
  return { payloadCodecs: codec === undefined ? [] : [codec] };
}
