/**
 * MD5 of large bodies on a thread of its own. The ETag of a 256 MiB PUT costs
 * about 0.43 s of CPU here: on the event loop it capped an upload at the hash's
 * speed, one after the other with everything else the loop does for it, and
 * held back every other request meanwhile. Bytes are copied into a few reused
 * 1 MiB buffers that travel to the thread and back (transferred, never cloned).
 */
import { Worker } from 'node:worker_threads';

export type ToHashThread =
  | { readonly op: 'update'; readonly id: number; readonly buffer: ArrayBuffer; readonly length: number }
  | { readonly op: 'finish'; readonly id: number }
  | { readonly op: 'drop'; readonly id: number };

export type FromHashThread =
  | { readonly op: 'hashed'; readonly id: number; readonly buffer: ArrayBuffer }
  | { readonly op: 'digest'; readonly id: number; readonly hex: string };

const BATCH = 1024 * 1024;
/** Bytes a stream may have waiting for the thread before drained() holds its writer back. */
const MAX_IN_FLIGHT = 4 * BATCH;
/** Buffers kept for reuse once the thread hands them back. */
const SPARE_BUFFERS = 16;

class HashThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly streams = new Map<number, OffThreadMd5>();
  private readonly spare: ArrayBuffer[] = [];

  open(stream: OffThreadMd5): number {
    const id = this.nextId++;
    this.streams.set(id, stream);
    this.holdWhileBusy();
    return id;
  }

  send(message: ToHashThread): void {
    const worker = this.ensure();
    if (message.op === 'update') worker.postMessage(message, [message.buffer]);
    else worker.postMessage(message);
    if (message.op === 'drop') this.forget(message.id);
  }

  take(): ArrayBuffer {
    return this.spare.pop() ?? new ArrayBuffer(BATCH);
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./md5-worker.js', import.meta.url));
    worker.on('message', (m: FromHashThread) => this.receive(m));
    const fail = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const stream of this.streams.values()) stream.fail(err);
      this.streams.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the MD5 thread exited with code ${code}`)));
    this.worker = worker;
    this.holdWhileBusy();
    return worker;
  }

  /** The thread keeps the process alive only while a stream waits on it (set after the listeners, which ref it). */
  private holdWhileBusy(): void {
    if (this.streams.size > 0) this.worker?.ref();
    else this.worker?.unref();
  }

  private forget(id: number): void {
    this.streams.delete(id);
    this.holdWhileBusy();
  }

  private receive(m: FromHashThread): void {
    const stream = this.streams.get(m.id);
    if (m.op === 'hashed') {
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(m.buffer);
      stream?.hashed();
      return;
    }
    this.forget(m.id);
    stream?.digested(m.hex);
  }
}

const thread = new HashThread();

/** One stream's MD5, computed on the hash thread in the order the bytes were given. */
export class OffThreadMd5 {
  /** Registered with the thread when the first bytes (or the finish) go to it. */
  private id: number | undefined;
  private current: Buffer | undefined;
  private filled = 0;
  /** Lengths of the batches the thread has not handed back yet, oldest first. */
  private readonly sent: number[] = [];
  private inFlight = 0;
  private failure: Error | undefined;
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private result: { resolve: (hex: string) => void; reject: (err: Error) => void } | undefined;

  update(chunk: Buffer): void {
    // After a failure the stream only waits to be told (drained, hex).
    if (this.failure) return;
    for (let offset = 0; offset < chunk.length;) {
      this.current ??= Buffer.from(thread.take());
      const n = chunk.copy(this.current, this.filled, offset);
      this.filled += n;
      offset += n;
      if (this.filled === this.current.length) this.flush();
    }
  }

  /** Resolves once few enough bytes wait for the thread: a writer awaits it before taking more. */
  drained(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.inFlight <= MAX_IN_FLIGHT) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  hex(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    this.flush();
    return new Promise((resolve, reject) => {
      this.result = { resolve, reject };
      thread.send({ op: 'finish', id: this.idOf() });
    });
  }

  /** Forgets the stream (an upload that failed): the thread drops its state. */
  discard(): void {
    if (this.id !== undefined && this.result === undefined && this.failure === undefined) thread.send({ op: 'drop', id: this.id });
  }

  hashed(): void {
    this.inFlight -= this.sent.shift() ?? 0;
    if (this.inFlight > MAX_IN_FLIGHT) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.resolve();
  }

  digested(hex: string): void {
    this.result?.resolve(hex);
  }

  fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    this.result?.reject(err);
  }

  private flush(): void {
    if (this.current === undefined || this.filled === 0) return;
    const length = this.filled;
    const { buffer } = this.current;
    this.current = undefined;
    this.filled = 0;
    this.sent.push(length);
    this.inFlight += length;
    thread.send({ op: 'update', id: this.idOf(), buffer: buffer as ArrayBuffer, length });
  }

  private idOf(): number {
    this.id ??= thread.open(this);
    return this.id;
  }
}
