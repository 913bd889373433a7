import { BSON, type Document } from 'mongodb';

/**
 * A raw BSON document of an archive as a JS object that serializes back to the very same bytes: numbers
 * stay Int32, Double or Long (a double 1.0 must not come back as an int32 1), regular expressions keep
 * their flags. What a restore hands to the driver's insertMany.
 */
export function decodeDocument(bytes: Uint8Array): Document {
  return BSON.deserialize(bytes, { promoteValues: false, bsonRegExp: true });
}

/** The BSON bytes of a document: raw bytes pass through, objects are serialized (`_id` kept where it is). */
export function encodeDocument(document: Uint8Array | Document): Uint8Array {
  return document instanceof Uint8Array ? document : BSON.serialize(document);
}
