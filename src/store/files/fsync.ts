import { open } from 'node:fs/promises';

/** fsyncs a folder, so that entries created or renamed in it survive a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
