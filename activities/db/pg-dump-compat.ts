import { settingUnknownTo, type VersionNum } from '../../common/pg-version';

/** How much of a dump is read for its header: pg_dump's header is a few dozen short lines. */
const HEAD_BYTES = 64 * 1024;
/** The lines of pg_dump's header: comments, blank lines, `\restrict`, SET and set_config. The first other line ends it. */
const HEADER_LINE = /^(--.*|\\restrict \S+|SET .*|SELECT pg_catalog\.set_config\(.*|)\r?$/;

/** The header with each SET line the server does not know made blank (the line count stays, for messages). */
function compatibleHead(head: Buffer, server: VersionNum): Buffer {
  // latin1 maps every byte to one character and back: the bytes of the rest of the dump come out as they went in.
  const lines = head.toString('latin1').split('\n');
  let changed = false;
  // The last piece may be a partial line; nothing after the header (a COPY row above all) is ever touched.
  for (let i = 0; i < lines.length - 1 && HEADER_LINE.test(lines[i] as string); i++) {
    const line = lines[i] as string;
    if (settingUnknownTo(line, server)) {
      lines[i] = line.endsWith('\r') ? '\r' : '';
      changed = true;
    }
  }
  return changed ? Buffer.from(lines.join('\n'), 'latin1') : head;
}

/**
 * A plain dump as a server of version `server` can take it: a newer pg_dump's header settings that server does
 * not have (pg_dump 17's `SET transaction_timeout = 0;`, see settingUnknownTo) are left out; every other byte
 * passes as it is, streamed. They only disable a timeout the older server does not have either.
 */
export async function* compatibleDump(dump: AsyncIterable<Buffer>, server: VersionNum): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of dump) {
    if (head === undefined) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length >= HEAD_BYTES) {
      yield compatibleHead(head, server);
      head = undefined;
    }
  }
  if (head !== undefined && head.length > 0) yield compatibleHead(head, server);
}
