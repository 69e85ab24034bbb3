// The aws-chunked decoder on its own: AWS's published example, every way of
// slicing the input, tampering, truncation, bounds, and trailers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { AwsChunkedDecoder, MAX_CHUNK_HEADER_BYTES, type AwsChunkedOptions, type ChunkSigning } from '../../src/auth/chunked.js';
import { S3Error } from '../../src/errors.js';

const DATE = '20130524T000000Z';
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const EMPTY = createHash('sha256').digest('hex');

// Computed here with node:crypto directly, independently of src/auth/sigv4.ts.
function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
const KEY = ['20130524', 'us-east-1', 's3', 'aws4_request'].reduce<Buffer>(
  (k, part) => hmac(k, part),
  Buffer.from('AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
);
const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const SIGNING: ChunkSigning = { key: KEY, amzDate: DATE, scope: SCOPE, seedSignature: SEED };

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface EncodeOptions {
  signed?: boolean;
  trailers?: [string, string][];
  /** Omit or corrupt parts to test failures. */
  tamper?: 'trailer-signature-missing' | 'trailer-value';
}

/** An aws-chunked body as the SDKs write it. */
function encode(chunks: Buffer[], opts: EncodeOptions = {}): Buffer {
  const parts: Buffer[] = [];
  let prev = SEED;
  for (const data of [...chunks, Buffer.alloc(0)]) {
    let header = data.length.toString(16);
    if (opts.signed) {
      prev = hmac(KEY, ['AWS4-HMAC-SHA256-PAYLOAD', DATE, SCOPE, prev, EMPTY, sha(data)].join('\n')).toString('hex');
      header += `;chunk-signature=${prev}`;
    }
    parts.push(Buffer.from(header + '\r\n'), data);
    if (data.length > 0) parts.push(Buffer.from('\r\n'));
  }
  if (opts.trailers === undefined) {
    parts.push(Buffer.from('\r\n'));
  } else {
    let canonical = '';
    for (const [n, v] of opts.trailers) {
      canonical += `${n}:${v}\n`;
      const sent = opts.tamper === 'trailer-value' ? v.replace(/.$/, 'x') : v;
      parts.push(Buffer.from(`${n}:${sent}\r\n`));
    }
    if (opts.signed && opts.tamper !== 'trailer-signature-missing') {
      const sig = hmac(KEY, ['AWS4-HMAC-SHA256-TRAILER', DATE, SCOPE, prev, sha(canonical)].join('\n')).toString('hex');
      parts.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n`));
    }
    parts.push(Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

function slices(body: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

type DecodeOptions = Omit<AwsChunkedOptions, 'trailers'>;

async function decode(input: Buffer[], opts: DecodeOptions): Promise<{ data: Buffer; trailers: Map<string, string> }> {
  const trailers = new Map<string, string>();
  const decoder = new AwsChunkedDecoder({ ...opts, trailers });
  Readable.from(input).pipe(decoder);
  const out: Buffer[] = [];
  for await (const chunk of decoder) out.push(chunk as Buffer);
  return { data: Buffer.concat(out), trailers };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<S3Error> {
  let caught: unknown;
  await p.catch((e: unknown) => { caught = e; });
  assert.ok(caught instanceof S3Error, `expected S3Error ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

// AWS's example body: 64 KiB + 1 KiB of 'a', signatures as published.
const AWS_BODY = Buffer.concat([
  Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
  Buffer.alloc(65536, 'a'),
  Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
  Buffer.alloc(1024, 'a'),
  Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
]);
const AWS_DATA = Buffer.alloc(66560, 'a');
const SIGNED: DecodeOptions = { decodedLength: 66560, signing: SIGNING, trailer: false };

test('AWS chunked example decodes, however the input is sliced', async () => {
  assert.equal(AWS_BODY.length, 66824); // the example's Content-Length
  assert.deepEqual(encode([Buffer.alloc(65536, 'a'), Buffer.alloc(1024, 'a')], { signed: true }), AWS_BODY);
  for (const size of [1, 2, 7, 87, 88, 89, 4096, 65536, 65626, AWS_BODY.length]) {
    const { data } = await decode(slices(AWS_BODY, size), SIGNED);
    assert.ok(data.equals(AWS_DATA), `slice size ${size}`);
  }
});

test('chunk data is passed through as slices of the input, not copies', async () => {
  const decoder = new AwsChunkedDecoder({ ...SIGNED, trailers: new Map() });
  const seen: Buffer[] = [];
  decoder.on('data', (b: Buffer) => seen.push(b));
  const ended = new Promise((resolve) => decoder.on('end', resolve));
  decoder.end(AWS_BODY);
  await ended;
  assert.equal(seen.length, 2);
  for (const b of seen) assert.equal(b.buffer, AWS_BODY.buffer);
});

test('a tampered data byte fails with SignatureDoesNotMatch, before end', async () => {
  const bad = Buffer.from(AWS_BODY);
  bad[100] = 0x62;
  await rejectsWith(decode([bad], SIGNED), 'SignatureDoesNotMatch');
  // The second chunk too, and the final (empty) chunk's signature.
  const bad2 = Buffer.from(AWS_BODY);
  bad2[AWS_BODY.length - 200] = 0x62;
  await rejectsWith(decode(slices(bad2, 1000), SIGNED), 'SignatureDoesNotMatch');
  const bad3 = Buffer.from(AWS_BODY.toString('latin1').replace('b6c6ea8a', 'b6c6ea8b'), 'latin1');
  await rejectsWith(decode([bad3], SIGNED), 'SignatureDoesNotMatch');
});

test('chunks must chain from the seed and carry signatures', async () => {
  await rejectsWith(decode([AWS_BODY], { ...SIGNED, signing: { ...SIGNING, seedSignature: 'f'.repeat(64) } }), 'SignatureDoesNotMatch');
  const unsigned = encode([Buffer.alloc(10, 'a')]);
  await rejectsWith(decode([unsigned], { decodedLength: 10, signing: SIGNING, trailer: false }), 'SignatureDoesNotMatch');
  // Reordering chunks breaks the chain.
  const two = encode([Buffer.from('first'), Buffer.from('secnd')], { signed: true }).toString('latin1');
  const blocks = two.split('\r\n');
  // [h1, "first", h2, "secnd", h0, "", ""]: swap the two data chunks with their headers.
  const swapped = [blocks[2], blocks[3], blocks[0], blocks[1], ...blocks.slice(4)].join('\r\n');
  await rejectsWith(decode([Buffer.from(swapped, 'latin1')], { decodedLength: 10, signing: SIGNING, trailer: false }), 'SignatureDoesNotMatch');
});

test('a truncated body fails with IncompleteBody', async () => {
  for (const cut of [10, 90, 5000, 65626 + 2, AWS_BODY.length - 90, AWS_BODY.length - 3]) {
    await rejectsWith(decode([AWS_BODY.subarray(0, cut)], SIGNED), 'IncompleteBody');
  }
  // Only the final empty line missing is tolerated: everything is verified by then.
  const { data } = await decode([AWS_BODY.subarray(0, AWS_BODY.length - 2)], SIGNED);
  assert.equal(data.length, 66560);
});

test('the decoded length must match x-amz-decoded-content-length', async () => {
  await rejectsWith(decode([AWS_BODY], { ...SIGNED, decodedLength: 66561 }), 'IncompleteBody');
  await rejectsWith(decode([AWS_BODY], { ...SIGNED, decodedLength: 66559 }), 'IncompleteBody');
  await rejectsWith(decode([AWS_BODY], { ...SIGNED, decodedLength: 0 }), 'IncompleteBody');
});

test('oversized or malformed chunk headers fail instead of buffering', async () => {
  const long = Buffer.alloc(MAX_CHUNK_HEADER_BYTES * 4, 'f');
  await rejectsWith(decode(slices(long, 100), { decodedLength: 10, trailer: false }), 'InvalidRequest');
  await rejectsWith(decode([Buffer.from('zz\r\n')], { decodedLength: 10, trailer: false }), 'InvalidRequest');
  await rejectsWith(decode([Buffer.from('ffffffffffffffffffff\r\n')], { decodedLength: 10, trailer: false }), 'InvalidRequest');
  await rejectsWith(decode([Buffer.from('3\r\nabcX\r\n0\r\n\r\n')], { decodedLength: 3, trailer: false }), 'InvalidRequest');
  await rejectsWith(decode([Buffer.from('3\r\nabc\r\n0\r\n\r\nextra')], { decodedLength: 3, trailer: false }), 'InvalidRequest');
  assert.equal((await decode([Buffer.from('0000000000000000003\r\nabc\r\n0\r\n\r\n')], { decodedLength: 3, trailer: false })).data.toString(), 'abc');
  // A signature line just under the bound still works.
  const padded = Buffer.from(`3;x=${'y'.repeat(MAX_CHUNK_HEADER_BYTES - 10)}\r\nabc\r\n0\r\n\r\n`);
  assert.equal((await decode(slices(padded, 333), { decodedLength: 3, trailer: false })).data.toString(), 'abc');
});

test('unsigned payload with trailer: data and trailers collected', async () => {
  const body = encode([Buffer.from('hello '), Buffer.from('world')], { trailers: [['x-amz-checksum-crc32', 'DUoRhQ==']] });
  assert.equal(body.toString(), '6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n');
  for (const size of [1, 3, body.length]) {
    const r = await decode(slices(body, size), { decodedLength: 11, trailer: true, declaredTrailers: new Set(['x-amz-checksum-crc32']) });
    assert.equal(r.data.toString(), 'hello world');
    assert.deepEqual([...r.trailers], [['x-amz-checksum-crc32', 'DUoRhQ==']]);
  }
  // Names are case-insensitive, values trimmed; a value ended by "\n" before the CRLF is accepted.
  const odd = Buffer.from('5\r\nhello\r\n0\r\nX-Amz-Checksum-CRC32C: abc= \n\r\n\r\n');
  const r = await decode([odd], { decodedLength: 5, trailer: true });
  assert.deepEqual([...r.trailers], [['x-amz-checksum-crc32c', 'abc=']]);
  // Missing final empty line tolerated.
  const short = Buffer.from('5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n');
  assert.equal((await decode([short], { decodedLength: 5, trailer: true })).trailers.get('x-amz-checksum-crc32'), 'NhCmhg==');
});

test('trailers must match x-amz-trailer and stay bounded', async () => {
  const body = encode([Buffer.from('hello')], { trailers: [['x-amz-checksum-sha1', 'abc']] });
  await rejectsWith(decode([body], { decodedLength: 5, trailer: true, declaredTrailers: new Set(['x-amz-checksum-crc32']) }), 'InvalidRequest');
  const none = Buffer.from('5\r\nhello\r\n0\r\n\r\n');
  await rejectsWith(decode([none], { decodedLength: 5, trailer: true, declaredTrailers: new Set(['x-amz-checksum-crc32']) }), 'InvalidRequest');
  const many: [string, string][] = [];
  for (let i = 0; i < 400; i++) many.push([`x-amz-meta-t${i}`, 'v'.repeat(40)]);
  await rejectsWith(decode(slices(encode([Buffer.from('hello')], { trailers: many }), 512), { decodedLength: 5, trailer: true }), 'InvalidRequest');
  const noColon = Buffer.from('5\r\nhello\r\n0\r\nbogus\r\n\r\n');
  await rejectsWith(decode([noColon], { decodedLength: 5, trailer: true }), 'InvalidRequest');
});

test('signed payload with trailer: chunk chain and trailer signature verified', async () => {
  const trailers: [string, string][] = [['x-amz-checksum-crc32c', 'sOO8/Q==']];
  const data = [Buffer.alloc(65536, 'a'), Buffer.alloc(1024, 'a')];
  const opts: DecodeOptions = { decodedLength: 66560, signing: SIGNING, trailer: true, declaredTrailers: new Set(['x-amz-checksum-crc32c']) };
  const good = encode(data, { signed: true, trailers });
  for (const size of [1000, good.length]) {
    const r = await decode(slices(good, size), opts);
    assert.ok(r.data.equals(AWS_DATA));
    assert.equal(r.trailers.get('x-amz-checksum-crc32c'), 'sOO8/Q==');
  }
  await rejectsWith(decode([encode(data, { signed: true, trailers, tamper: 'trailer-value' })], opts), 'SignatureDoesNotMatch');
  await rejectsWith(decode([encode(data, { signed: true, trailers, tamper: 'trailer-signature-missing' })], opts), 'SignatureDoesNotMatch');
});
