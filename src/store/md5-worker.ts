/**
 * The hash thread behind OffThreadMd5: one running MD5 per stream id. Each batch of
 * bytes arrives in a transferred buffer and goes back the same way once
 * hashed, so the two threads pass the same few buffers to and fro.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { FromHashThread, ToHashThread } from './md5-thread.js';

const port = parentPort;
if (port === null) throw new Error('md5-worker runs as a worker thread');
const hashes = new Map<number, Hash>();

port.on('message', (m: ToHashThread) => {
  switch (m.op) {
    case 'update': {
      let hash = hashes.get(m.id);
      if (hash === undefined) {
        hash = createHash('md5');
        hashes.set(m.id, hash);
      }
      hash.update(new Uint8Array(m.buffer, 0, m.length));
      const back: FromHashThread = { op: 'hashed', id: m.id, buffer: m.buffer };
      port.postMessage(back, [m.buffer]);
      return;
    }
    case 'finish': {
      const hex = (hashes.get(m.id) ?? createHash('md5')).digest('hex');
      hashes.delete(m.id);
      const done: FromHashThread = { op: 'digest', id: m.id, hex };
      port.postMessage(done);
      return;
    }
    case 'drop':
      hashes.delete(m.id);
  }
});
