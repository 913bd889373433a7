import { readFileSync, statSync } from 'node:fs';
import type { DataConverter } from '@temporalio/common';
import { ConfigError } from './errors';
import { AesGcmCodec, parseCodecKeys } from './payload-encryption';

type Env = Record<string, string | undefined>;

/**
 * The payload codec the CLI, the workers, their Schedules and the codec server share: AES-256-GCM over the
 * keys in SCIOPS_CODEC_KEYS_FILE (a file only its owner can read) or SCIOPS_CODEC_KEYS; none when neither
 * is set. Throws a ConfigError naming the setting, never a key.
 */
export function loadPayloadCodec(env: Env): AesGcmCodec | undefined {
  const inline = env.SCIOPS_CODEC_KEYS?.trim() ?? '';
  const file = env.SCIOPS_CODEC_KEYS_FILE?.trim() ?? '';
  if (inline !== '' && file !== '') {
    throw new ConfigError('SCIOPS_CODEC_KEYS', 'set, and so is SCIOPS_CODEC_KEYS_FILE: keep the keys in one place, unset one of them');
  }
  if (inline !== '') return new AesGcmCodec(parseCodecKeys(inline, 'SCIOPS_CODEC_KEYS'));
  if (file === '') return undefined;
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('SCIOPS_CODEC_KEYS_FILE', `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError('SCIOPS_CODEC_KEYS_FILE', `${file} can be read by others than its owner: \`chmod 600 ${file}\``);
  }
  return new AesGcmCodec(parseCodecKeys(text, `SCIOPS_CODEC_KEYS_FILE (${file})`));
}

/** What a client (the CLI, a worker's own client, a test) converts payloads with: the codec, when there is one. */
export function clientDataConverter(codec: AesGcmCodec | undefined): DataConverter {
  return { payloadCodecs: codec === undefined ? [] : [codec] };
}
