import type { ByteSource } from './byte-source';
import { MAX_BSON_SIZE, MIN_BSON_SIZE, MongoArchiveError } from './format';

/**
 * The archive's lowest layer: the stream is a sequence of BSON documents and terminators (int32 -1). This
 * reads one at a time and checks what can be checked without knowing what the document means: a length in
 * range, all its bytes there, the closing NUL.
 */

/** One item of the stream: a document's bytes, the terminator, or the end of the input (between items). */
export type Block =
  | { readonly document: Buffer; readonly offset: number; readonly terminator?: undefined }
  | { readonly terminator: true; readonly offset: number; readonly document?: undefined }
  | null;

export class BlockReader {
  constructor(private readonly source: ByteSource) {}

  get offset(): number {
    return this.source.offset;
  }

  /** The next item; `context` says what is being read, for the errors ("the prelude", "a segment"). */
  async next(context: string, namespace?: string): Promise<Block> {
    const offset = this.source.offset;
    const head = await this.source.fill(4);
    if (head === 0) return null;
    if (head < 4)
      throw new MongoArchiveError(`the archive is truncated: it ends ${head} byte(s) into a block of ${context}`, offset, namespace);
    const size = this.source.peekInt32();
    if (size === -1) {
      this.source.take(4);
      return { terminator: true, offset };
    }
    if (size < MIN_BSON_SIZE || size > MAX_BSON_SIZE)
      throw new MongoArchiveError(`${size} is neither a BSON document length nor the terminator, in ${context}`, offset, namespace);
    const got = await this.source.fill(size);
    if (got < size)
      throw new MongoArchiveError(
        `the archive is truncated: a document of ${size} bytes in ${context} ends after ${got} byte(s)`,
        offset,
        namespace,
      );
    const document = this.source.take(size);
    if (document[size - 1] !== 0)
      throw new MongoArchiveError(`the document of ${size} bytes in ${context} does not end with a NUL byte`, offset, namespace);
    return { document, offset };
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
