import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { OffThreadMd5 } from '../../src/store/md5-thread.js';

/** Splits `data` into chunks of random sizes, from one byte to a few hundred KiB (so batches fill mid-chunk). */
function chunksOf(data: Buffer, seed: number): Buffer[] {
  const out: Buffer[] = [];
  let state = seed;
  for (let at = 0; at < data.length;) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const size = state % 7 === 0 ? 1 : 1 + (state % (300 * 1024));
    out.push(data.subarray(at, at + size));
    at += size;
  }
  return out;
}

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

test('interleaved streams each get the MD5 of their own bytes, across batch boundaries', async () => {
  const bodies = [randomBytes(5 * 1024 * 1024 + 12345), randomBytes(3 * 1024 * 1024), Buffer.alloc(0), randomBytes(1024 * 1024)];
  const streams = bodies.map(() => new OffThreadMd5());
  const pending = bodies.map((b, i) => chunksOf(b, i + 1));
  // Round-robin, waiting for each stream's drained() as a writer does.
  while (pending.some((p) => p.length > 0)) {
    for (let i = 0; i < streams.length; i++) {
      const chunk = pending[i]!.shift();
      if (chunk === undefined) continue;
      streams[i]!.update(chunk);
      await streams[i]!.drained();
    }
  }
  assert.deepEqual(await Promise.all(streams.map((s) => s.hex())), bodies.map(md5));
});

test('a discarded stream leaves the next streams correct', async () => {
  const dropped = new OffThreadMd5();
  dropped.update(randomBytes(2 * 1024 * 1024));
  dropped.discard();
  const body = randomBytes(1536 * 1024);
  const kept = new OffThreadMd5();
  for (const chunk of chunksOf(body, 99)) kept.update(chunk);
  assert.equal(await kept.hex(), md5(body));
});
