/**
 * Reads a browser upload form (multipart/form-data) as a stream with busboy:
 * the fields before the file, then the file itself as a stream, never
 * buffered. As in S3, fields after the file are ignored, and the fields before
 * it are bounded (20 KB).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { S3Error } from '../errors.js';

/** S3's limit on everything a form sends before its file. */
export const MAX_PRE_FILE_BYTES = 20 * 1024;
const MAX_FIELDS = 1000;

export interface FormFile {
  readonly stream: Readable;
  /** The file part's filename ('' when none), for `${filename}` in the key. */
  readonly filename: string;
}

export interface FormHead {
  /** Fields before the file, names lower-cased (form field names are case-insensitive). */
  readonly fields: ReadonlyMap<string, string>;
  readonly file: FormFile | undefined;
  /** Settles once the whole form is read: MalformedPOSTRequest when it is not well-formed. */
  readonly complete: Promise<void>;
}

const malformed = (): S3Error => new S3Error('MalformedPOSTRequest');
const tooLong = (): S3Error => new S3Error('MaxPostPreDataLengthExceededError');

/**
 * Starts reading `body` and resolves as soon as the file begins (or the form ends without one).
 *
 * The file is the part named `file`; every other part is a field, even one that
 * carries a filename (Python `requests` gives every part of `files=` one, and
 * busboy hands such parts over as file streams). Those parts are read to their
 * end, so the fields are settled in the order of the form through one chain.
 */
export function readFormHead(body: Readable, headers: IncomingHttpHeaders): Promise<FormHead> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers,
      limits: { fieldNameSize: MAX_PRE_FILE_BYTES, fieldSize: MAX_PRE_FILE_BYTES + 1, fields: MAX_FIELDS, parts: MAX_FIELDS + 1 },
      defParamCharset: 'utf8',
    });
  } catch {
    return Promise.reject(malformed());
  }
  const complete = new Promise<void>((resolve, reject) => {
    parser.once('finish', resolve);
    parser.once('error', () => reject(malformed()));
  });
  complete.catch(() => undefined); // observed by whoever reads the file; an early answer may never look
  return new Promise<FormHead>((resolve, reject) => {
    const fields = new Map<string, string>();
    let file: FormFile | undefined;
    /** Set once the file part began: what follows it is ignored. */
    let fileSeen = false;
    let settled = false;
    let preFileBytes = 0;
    /** Each part's turn, in the order of the form: a field read from a file stream ends later than busboy moves on. */
    let turn: Promise<void> = Promise.resolve();
    const settle = (error?: S3Error): void => {
      if (settled) return;
      settled = true;
      if (error) {
        body.unpipe(parser);
        reject(error);
      } else {
        resolve({ fields, file, complete });
      }
    };
    /** Counts bytes sent before the file against S3's limit; false (and the form refused) once over it. */
    const withinLimit = (bytes: number): boolean => {
      preFileBytes += bytes;
      if (preFileBytes <= MAX_PRE_FILE_BYTES) return true;
      settle(tooLong());
      return false;
    };
    const inTurn = (step: () => void | Promise<void>): void => {
      turn = turn.then(async () => {
        if (!settled) await step();
      });
    };
    const addField = (name: string, value: string): void => {
      const lower = name.toLowerCase();
      if (fields.has(lower)) {
        return settle(new S3Error('InvalidArgument', `Bucket POST can contain the field '${name}' only once.`, { ArgumentName: name, ArgumentValue: value }));
      }
      fields.set(lower, value);
    };
    parser.on('field', (name: string, value: string, info: busboy.FieldInfo) => {
      if (fileSeen || settled) return;
      if (info.nameTruncated || info.valueTruncated) return settle(tooLong());
      if (!withinLimit(Buffer.byteLength(name) + Buffer.byteLength(value))) return;
      // The content may come as a plain text field named file.
      if (name.toLowerCase() === 'file') {
        fileSeen = true;
        file = { stream: Readable.from([Buffer.from(value, 'utf8')]), filename: '' };
        return inTurn(() => settle());
      }
      inTurn(() => addField(name, value));
    });
    parser.on('file', (name: string, stream: Readable, info: busboy.FileInfo) => {
      if (fileSeen || settled) {
        stream.resume();
        return;
      }
      // A form that breaks off fails the stream, maybe before anyone reads it (or when
      // nobody will: the form was refused). Whoever reads the file later still sees the error.
      stream.on('error', () => undefined);
      if (name.toLowerCase() === 'file') {
        fileSeen = true;
        file = { stream, filename: info.filename ?? '' };
        return inTurn(() => settle());
      }
      if (!withinLimit(Buffer.byteLength(name))) return void stream.resume();
      const value = fieldText(stream, withinLimit);
      inTurn(async () => {
        const text = await value;
        if (!settled && text !== undefined) addField(name, text);
      });
    });
    parser.on('fieldsLimit', () => settle(tooLong()));
    parser.on('partsLimit', () => settle(tooLong()));
    parser.once('finish', () => inTurn(() => settle()));
    parser.once('error', () => settle(malformed()));
    body.pipe(parser);
  });
}

/** A field sent as a file part, as text; undefined when it outgrew the limit or broke off (the form is refused). */
async function fieldText(stream: Readable, withinLimit: (bytes: number) => boolean): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!withinLimit(chunk.length)) return undefined;
      chunks.push(chunk);
    }
  } catch {
    return undefined; // the parser's own error refuses the form
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A form's file as a stream that fails with S3's error once it outgrows `max`,
 * or at its end when it is under `min`, and that ends only once the rest of the
 * form was read, so a file is only ever stored from a well-formed form. Nothing
 * flows until the reader pulls.
 */
export function limitedFile(file: Readable, min: number, max: number, formComplete: Promise<void>): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    let size = 0;
    try {
      for await (const chunk of file as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > max) throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { MaxSizeAllowed: String(max) });
        yield chunk;
      }
    } catch (err) {
      // The file stream fails when the form breaks off: the client's malformed form.
      throw err instanceof S3Error ? err : malformed();
    }
    if (size < min) {
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
        ProposedSize: String(size), MinSizeAllowed: String(min),
      });
    }
    await formComplete;
  }
  return Readable.from(chunks(), { objectMode: false });
}
