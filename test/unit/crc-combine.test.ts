import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { combineBase64Crcs } from '../../src/store/crc-combine.js';
import { newChecksum } from '../../src/store/digest.js';
import type { ChecksumAlgorithm } from '../../src/store/types.js';

async function crcOf(algorithm: ChecksumAlgorithm, data: Buffer): Promise<string> {
  const c = newChecksum(algorithm);
  c.update(data);
  return (await c.digest()).toString('base64');
}

for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
  test(`${algorithm} of a whole equals the combination of its pieces`, async () => {
    const pieces = [randomBytes(1000), randomBytes(1), randomBytes(70_000), randomBytes(0), randomBytes(5)];
    const whole = await crcOf(algorithm, Buffer.concat(pieces));
    const parts = await Promise.all(pieces.map(async (p) => ({ crc: await crcOf(algorithm, p), size: p.length })));
    assert.equal(combineBase64Crcs(algorithm, parts), whole);
  });
}

test('check values of the catalogue ("123456789")', async () => {
  const input = Buffer.from('123456789');
  assert.equal(Buffer.from(await crcOf('CRC32', input), 'base64').toString('hex'), 'cbf43926');
  assert.equal(Buffer.from(await crcOf('CRC32C', input), 'base64').toString('hex'), 'e3069283');
  assert.equal(Buffer.from(await crcOf('CRC64NVME', input), 'base64').toString('hex'), 'ae8b14860a799888');
});
