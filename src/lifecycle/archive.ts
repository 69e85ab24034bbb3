import { S3Error } from '../errors.js';
import { httpDate } from '../http/respond.js';
import type { ObjectHead } from '../store/types.js';

/** Storage classes whose objects must be restored before they can be read. */
const ARCHIVE_CLASSES: readonly string[] = ['GLACIER', 'DEEP_ARCHIVE'];

export function isArchiveClass(storageClass: string): boolean {
  return ARCHIVE_CLASSES.includes(storageClass);
}

/** Whether an archived object has a completed restore whose copy GET may serve. */
function isRestored(record: ObjectHead): boolean {
  return record.restore?.copy !== undefined;
}

/** GET and copies of an archived object need a completed restore (HEAD does not), as in S3. */
export function assertReadable(record: ObjectHead): void {
  if (isArchiveClass(record.storageClass) && !isRestored(record)) {
    throw new S3Error('InvalidObjectState', 'The operation is not valid for the object\'s storage class', { StorageClass: record.storageClass });
  }
}

/** The x-amz-restore header HEAD and GET give, if a restore was requested. */
export function restoreHeader(record: ObjectHead): string | undefined {
  const r = record.restore;
  if (!r) return undefined;
  if (r.copy === undefined || r.expiresAt === undefined) return 'ongoing-request="true"';
  return `ongoing-request="false", expiry-date="${httpDate(new Date(r.expiresAt))}"`;
}
