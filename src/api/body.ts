import type { Readable } from 'node:stream';
import { S3Error } from '../errors.js';

/** Largest XML document any operation accepts (DeleteObjects with 1000 long keys fits). */
export const MAX_XML_BODY = 2 * 1024 * 1024;

/** Reads a small request body whole, refusing more than `limit` bytes. */
export async function readSmallBody(body: Readable, limit = MAX_XML_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new S3Error('MalformedXML', `The XML you provided was larger than the maximum ${limit} bytes allowed.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
