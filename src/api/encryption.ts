import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import type { OperationName } from '../router/operations.js';

/**
 * Server-side encryption is not implemented yet. A request asking for it is
 * refused with NotImplemented rather than stored in the clear as if it had been
 * encrypted (or, for SSE-C, served without its key); malformed requests get
 * the error S3 gives them.
 */

/** What x-amz-server-side-encryption may say: SSE-S3, SSE-KMS, DSSE-KMS. */
const ALGORITHMS = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);
/** The writes that accept x-amz-server-side-encryption. */
const ENCRYPTING_WRITES: ReadonlySet<OperationName> = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload']);
/** Reads that S3 refuses x-amz-server-side-encryption on (the object's own encryption applies). */
const READS: ReadonlySet<OperationName> = new Set(['GetObject', 'HeadObject']);
const KMS_HEADERS = ['x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-context'];
/** SSE-C: the customer's key for the object, and for a copy's source. */
const CUSTOMER_KEY_HEADERS = ['algorithm', 'key', 'key-md5'].flatMap((suffix) => [
  `x-amz-server-side-encryption-customer-${suffix}`, `x-amz-copy-source-server-side-encryption-customer-${suffix}`,
]);

/** Throws S3's answer to a request for encryption on an object; returns for requests that ask for none. */
export function refuseEncryption(operation: OperationName, objectRequest: boolean, headers: IncomingHttpHeaders): void {
  if (!objectRequest) return;
  const customer = CUSTOMER_KEY_HEADERS.find((name) => headers[name] !== undefined);
  if (customer !== undefined) {
    throw new S3Error('NotImplemented', `Server-side encryption with customer-provided keys (${customer}) is not implemented by this server.`);
  }
  const algorithm = headers['x-amz-server-side-encryption'];
  if (READS.has(operation) && algorithm !== undefined) {
    throw new S3Error('InvalidArgument', 'x-amz-server-side-encryption header is not supported for this operation.', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: String(algorithm) });
  }
  if (!ENCRYPTING_WRITES.has(operation)) return;
  if (algorithm !== undefined && !ALGORITHMS.has(String(algorithm))) {
    throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: String(algorithm) });
  }
  const kms = KMS_HEADERS.find((name) => headers[name] !== undefined);
  if (kms !== undefined && !String(algorithm).startsWith('aws:kms')) {
    throw new S3Error('InvalidArgument', 'Server Side Encryption with KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: kms });
  }
  if (algorithm !== undefined) {
    throw new S3Error('NotImplemented', `Server-side encryption (x-amz-server-side-encryption: ${String(algorithm)}) is not implemented by this server.`);
  }
}
