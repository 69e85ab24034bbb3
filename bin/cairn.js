#!/usr/bin/env node
// fsyncs run on libuv's thread pool; four threads would queue concurrent uploads behind each other.
process.env.UV_THREADPOOL_SIZE ??= '16';
await import('../dist/src/cli/main.js');
