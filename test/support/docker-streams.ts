/** The text of a multiplexed Docker stream (exec output, container logs): the 8-byte frame headers dropped. */
export function demuxedText(raw: Buffer): string {
  let text = '';
  for (let at = 0; at + 8 <= raw.length; at += 8 + raw.readUInt32BE(at + 4)) {
    text += raw.subarray(at + 8, at + 8 + raw.readUInt32BE(at + 4)).toString();
  }
  return text;
}
