/**
 * The short syntax of a service volume, `[SOURCE:]TARGET[:MODE]`, parsed as docker's `volumespec.Parse` parses it:
 * one or two characters are an anonymous volume's target; a colon after a single drive letter (`C:\x`) does not
 * separate; MODE is a comma-separated list where `ro`/`rw` set read-only, `nocopy` sets the volume's nocopy, a
 * propagation (`shared`, `slave`, `private`, `rshared`, `rslave`, `rprivate`) sets the bind's propagation, and other
 * options (`z`, `Z`, `cached`, `delegated`, `consistent`) are ignored. A source that starts with `.`, `/` or `~`
 * (or a Windows path) is a bind mount, any other source a named volume.
 */
export interface ShortVolume {
  readonly type: 'volume' | 'bind';
  readonly source?: string;
  readonly target: string;
  readonly readOnly: boolean;
  readonly nocopy?: boolean;
  readonly propagation?: string;
}

export const PROPAGATIONS = ['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate'];

/** Parses the short syntax; returns the problem as a string when docker refuses the spec. */
export function parseShortVolume(spec: string): ShortVolume | string {
  if (spec.length === 0) return 'an empty volume: write SOURCE:TARGET[:MODE] or TARGET';
  const chars = Array.from(spec);
  if (chars.length <= 2) return { type: 'volume', target: spec, readOnly: false };
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  let nocopy: boolean | undefined;
  let propagation: string | undefined;
  let buffer = '';
  const fields = [...chars, ''];
  for (let i = 0; i < fields.length; i++) {
    const c = fields[i] as string;
    const end = i === fields.length - 1;
    if (c === ':' && Array.from(buffer).length === 1 && /\p{L}/u.test(buffer)) {
      buffer += c;
      continue;
    }
    if (c !== ':' && !end) {
      buffer += c;
      continue;
    }
    if (buffer === '') return `${JSON.stringify(spec)} has an empty section between colons`;
    if (source === undefined && end) target = buffer;
    else if (source === undefined) source = buffer;
    else if (target === undefined) target = buffer;
    else if (!end) return `${JSON.stringify(spec)} has too many colons: write SOURCE:TARGET[:MODE]`;
    else {
      for (const option of buffer.split(',')) {
        if (option === 'ro') readOnly = true;
        else if (option === 'rw') readOnly = false;
        else if (option === 'nocopy') nocopy = true;
        else if (PROPAGATIONS.includes(option)) propagation = option;
      }
    }
    buffer = '';
  }
  const type = source !== undefined && isFilePath(source) ? 'bind' : 'volume';
  return {
    type,
    ...(source === undefined ? {} : { source }),
    target: target as string,
    readOnly,
    ...(nocopy === undefined ? {} : { nocopy }),
    ...(propagation === undefined ? {} : { propagation }),
  };
}

function isFilePath(source: string): boolean {
  const first = source[0];
  if (first === '.' || first === '/' || first === '~') return true;
  const chars = Array.from(source);
  if (chars.length === 1) return false;
  if (source.startsWith('\\\\')) return true;
  return /\p{L}/u.test(chars[0] as string) && chars[1] === ':';
}
