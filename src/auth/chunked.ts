/**
 * Streaming decoder for `Content-Encoding: aws-chunked` bodies:
 *
 *   signed    `hex;chunk-signature=SIG\r\n DATA \r\n … 0;chunk-signature=SIG\r\n [trailers] \r\n`
 *   unsigned  `hex\r\n DATA \r\n … 0\r\n [trailers] \r\n`
 *   trailers  `name:value\r\n …` and, when signed, `x-amz-trailer-signature:SIG\r\n`
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 *
 * A state machine over the incoming buffers: chunk data is pushed downstream as
 * slices of the input (no copy, no concatenation); only the short header and
 * trailer lines are buffered, and both are bounded. Each chunk's signature is
 * checked as soon as its last byte has passed, so a bad chunk fails the stream
 * before any later data and always before 'end'.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors.js';
import { EMPTY_SHA256, chunkStringToSign, hmacHex, signaturesEqual, trailerStringToSign } from './sigv4.js';

/** What signed chunks are verified against: the request's key, date, scope and seed signature. */
export interface ChunkSigning {
  readonly key: Buffer;
  readonly amzDate: string;
  readonly scope: string;
  readonly seedSignature: string;
}

export interface AwsChunkedOptions {
  /** x-amz-decoded-content-length: the decoded body must be exactly this long. */
  readonly decodedLength: number;
  /** Present for STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: every chunk must carry a valid signature. */
  readonly signing?: ChunkSigning | undefined;
  /** A trailer section follows the final chunk. */
  readonly trailer: boolean;
  /** Names announced by x-amz-trailer (lower case); when given, exactly these must arrive. */
  readonly declaredTrailers?: ReadonlySet<string> | undefined;
  /** Filled with the verified trailers before the stream emits 'end'. */
  readonly trailers: Map<string, string>;
  readonly highWaterMark?: number;
}

/** A chunk header is ~90 bytes; anything near this is not a client we know. */
export const MAX_CHUNK_HEADER_BYTES = 4096;
/** All trailer lines together. */
export const MAX_TRAILER_BYTES = 16 * 1024;

type State = 'header' | 'data' | 'data-crlf' | 'final' | 'trailer' | 'done';

const TRAILER_SIGNATURE = 'x-amz-trailer-signature';

function malformed(what: string): S3Error {
  return new S3Error('InvalidRequest', `Invalid aws-chunked body: ${what}`);
}

function incomplete(what: string): S3Error {
  return new S3Error('IncompleteBody', `You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header (${what}).`);
}

export class AwsChunkedDecoder extends Transform {
  private readonly opts: AwsChunkedOptions;
  private state: State = 'header';
  /** Partial line (header or trailer) carried across input buffers; small copies only. */
  private lineParts: Buffer[] = [];
  private lineLength = 0;
  private trailerBytes = 0;
  private remaining = 0;
  private crlfSeen = 0;
  private decoded = 0;
  private chunkHash: Hash | undefined;
  private claimedSignature = '';
  private previousSignature: string;
  private readonly pendingTrailers = new Map<string, string>();
  private trailerSignature: string | undefined;

  constructor(opts: AwsChunkedOptions) {
    const hwm = opts.highWaterMark ?? 256 * 1024;
    super({ readableHighWaterMark: hwm, writableHighWaterMark: hwm });
    this.opts = opts;
    this.previousSignature = opts.signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      // Tolerate a missing final empty line: everything it would close is verified.
      if (this.state === 'final' && this.lineLength === 0) this.state = 'done';
      if (this.state === 'trailer' && this.lineLength === 0) this.finishTrailers();
      if (this.state !== 'done') throw incomplete('the aws-chunked body ended early');
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  private consume(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case 'header': {
          const line = this.takeLine(buf, pos, MAX_CHUNK_HEADER_BYTES, 'chunk header too long');
          if (line === undefined) return;
          pos = line.next;
          this.startChunk(line.text);
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, buf.length - pos);
          const slice = n === buf.length ? buf : buf.subarray(pos, pos + n);
          this.chunkHash?.update(slice);
          this.push(slice);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) {
            this.endChunk(this.chunkHash?.digest('hex'));
            this.state = 'data-crlf';
            this.crlfSeen = 0;
          }
          break;
        }
        case 'data-crlf': {
          const expected = this.crlfSeen === 0 ? 0x0d : 0x0a;
          if (buf[pos] !== expected) throw malformed('chunk data not followed by CRLF');
          pos++;
          if (++this.crlfSeen === 2) this.state = 'header';
          break;
        }
        case 'final': {
          const line = this.takeLine(buf, pos, 2, 'unexpected data after the final chunk');
          if (line === undefined) return;
          if (line.text !== '') throw malformed('unexpected data after the final chunk');
          pos = line.next;
          this.state = 'done';
          break;
        }
        case 'trailer': {
          const budget = MAX_TRAILER_BYTES - this.trailerBytes;
          const line = this.takeLine(buf, pos, budget, 'trailers too large');
          if (line === undefined) return;
          pos = line.next;
          this.trailerBytes += line.text.length + 2;
          if (line.text === '') this.finishTrailers();
          else this.addTrailer(line.text);
          break;
        }
        case 'done':
          throw malformed('unexpected data after the final chunk');
      }
    }
  }

  /**
   * Takes one CRLF-terminated line starting at pos; returns undefined (keeping a
   * copy of the partial bytes) when the buffer ends first. `limit` bounds the line.
   * Only CRLF ends a line: a bare LF stays in the line (one Go client ends trailer
   * values with "\n" before the CRLF; trimming the value absorbs it).
   */
  private takeLine(buf: Buffer, pos: number, limit: number, tooLong: string): { text: string; next: number } | undefined {
    let from = pos;
    for (;;) {
      const nl = buf.indexOf(0x0a, from);
      const end = nl < 0 ? buf.length : nl;
      if (this.lineLength + (end - pos) > limit + 1) throw malformed(tooLong);
      if (nl < 0) {
        // Copy: a subarray would pin the whole (large) input buffer.
        this.lineParts.push(Buffer.from(buf.subarray(pos)));
        this.lineLength += buf.length - pos;
        return undefined;
      }
      const prev = nl > pos ? buf[nl - 1] : this.lastPartialByte();
      if (prev !== 0x0d) {
        from = nl + 1;
        continue;
      }
      let line: Buffer;
      if (this.lineParts.length === 0) {
        line = buf.subarray(pos, nl);
      } else {
        this.lineParts.push(buf.subarray(pos, nl));
        line = Buffer.concat(this.lineParts);
        this.lineParts = [];
      }
      this.lineLength = 0;
      return { text: line.toString('latin1', 0, line.length - 1), next: nl + 1 };
    }
  }

  private lastPartialByte(): number | undefined {
    const last = this.lineParts[this.lineParts.length - 1];
    return last === undefined ? undefined : last[last.length - 1];
  }

  private startChunk(header: string): void {
    const semi = header.indexOf(';');
    const sizeHex = semi < 0 ? header : header.slice(0, semi);
    // Leading zeros are legal hex; 15 significant digits already exceed any length we accept.
    if (!/^0*[0-9a-fA-F]{1,15}$/.test(sizeHex)) throw malformed(`invalid chunk size "${sizeHex.slice(0, 32)}"`);
    const size = parseInt(sizeHex, 16);
    let signature: string | undefined;
    if (semi >= 0) {
      for (const ext of header.slice(semi + 1).split(';')) {
        if (ext.startsWith('chunk-signature=')) signature = ext.slice('chunk-signature='.length);
      }
    }
    if (this.opts.signing !== undefined) {
      if (signature === undefined) throw new S3Error('SignatureDoesNotMatch', 'The aws-chunked body has a chunk without chunk-signature.');
      this.claimedSignature = signature;
    }
    if (this.decoded + size > this.opts.decodedLength) {
      throw incomplete('the aws-chunked body is longer than declared');
    }
    this.decoded += size;
    if (size === 0) {
      this.endChunk(EMPTY_SHA256);
      if (this.decoded !== this.opts.decodedLength) throw incomplete('the aws-chunked body is shorter than declared');
      this.state = this.opts.trailer ? 'trailer' : 'final';
      return;
    }
    this.remaining = size;
    this.chunkHash = this.opts.signing === undefined ? undefined : createHash('sha256');
    this.state = 'data';
  }

  /** Verifies the chunk just completed against the chained signature. */
  private endChunk(chunkSha256: string | undefined): void {
    const s = this.opts.signing;
    if (s === undefined || chunkSha256 === undefined) return;
    const expected = hmacHex(s.key, chunkStringToSign(s.amzDate, s.scope, this.previousSignature, chunkSha256));
    if (!signaturesEqual(expected, this.claimedSignature)) {
      throw new S3Error('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
    }
    this.previousSignature = expected;
  }

  private addTrailer(line: string): void {
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed('invalid trailer line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === TRAILER_SIGNATURE) {
      if (this.trailerSignature !== undefined) throw malformed('repeated x-amz-trailer-signature');
      this.trailerSignature = value;
      return;
    }
    if (this.pendingTrailers.has(name)) throw malformed(`repeated trailer ${name}`);
    const declared = this.opts.declaredTrailers;
    if (declared !== undefined && !declared.has(name)) {
      throw new S3Error('InvalidRequest', `The trailer ${name} was not announced in x-amz-trailer.`);
    }
    this.pendingTrailers.set(name, value);
  }

  private finishTrailers(): void {
    const s = this.opts.signing;
    if (s !== undefined) {
      if (this.trailerSignature === undefined) {
        throw new S3Error('SignatureDoesNotMatch', 'The aws-chunked trailer is missing x-amz-trailer-signature.');
      }
      const names = [...this.pendingTrailers.keys()].sort();
      let canonical = '';
      for (const n of names) canonical += `${n}:${this.pendingTrailers.get(n)!}\n`;
      const expected = hmacHex(s.key, trailerStringToSign(s.amzDate, s.scope, this.previousSignature, canonical));
      if (!signaturesEqual(expected, this.trailerSignature)) {
        throw new S3Error('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
      }
    }
    const declared = this.opts.declaredTrailers;
    if (declared !== undefined) {
      for (const n of declared) {
        if (!this.pendingTrailers.has(n)) throw new S3Error('InvalidRequest', `The trailer ${n} announced in x-amz-trailer was not sent.`);
      }
    }
    for (const [n, v] of this.pendingTrailers) this.opts.trailers.set(n, v);
    this.state = 'done';
  }
}
