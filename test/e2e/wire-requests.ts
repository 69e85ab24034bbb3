/**
 * The S3 requests this test process has on the wire, seen through Node's HTTP
 * client diagnostics channel (so whatever client sends them): which operation
 * each one is, told apart as S3 routes it (method, sub-resource, copy-source
 * header), whether it has reached a connected socket, and whether its response
 * has begun. Read at the moment of a kill, it tells which operations the kill
 * cut off.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export type WireOperation =
  | 'PutObject' | 'CopyObject' | 'UploadPart' | 'CreateMultipartUpload' | 'CompleteMultipartUpload' | 'DeleteObjects' | 'DeleteObject'
  | 'RestoreObject' | 'other';

const START = 'http.client.request.start';

export function operationOf(method: string, path: string, hasCopySource: boolean): WireOperation {
  const query = new URLSearchParams(path.split('?')[1] ?? '');
  // The SDK adds x-id=<operation> for its own bookkeeping; S3 routes without it.
  query.delete('x-id');
  const subresources = [...query.keys()];
  if (method === 'PUT') {
    if (query.has('partNumber') && query.has('uploadId')) return 'UploadPart';
    if (subresources.length > 0) return 'other';
    return hasCopySource ? 'CopyObject' : 'PutObject';
  }
  if (method === 'POST') {
    if (query.has('uploads')) return 'CreateMultipartUpload';
    if (query.has('uploadId')) return 'CompleteMultipartUpload';
    if (query.has('delete')) return 'DeleteObjects';
    if (query.has('restore')) return 'RestoreObject';
  }
  // A delete of an object (path /bucket/key), or of one of its versions.
  const objectPath = (path.split('?')[0] ?? '').split('/').length > 2;
  if (method === 'DELETE' && objectPath && subresources.every((name) => name === 'versionId')) return 'DeleteObject';
  return 'other';
}

export interface WireRequest {
  readonly operation: WireOperation;
  /** Set once the status line of a response arrived. */
  answered: boolean;
}

interface Tracked extends WireRequest {
  readonly request: ClientRequest;
}

export class WireRequests {
  private readonly open = new Set<Tracked>();

  private readonly onStart = (message: unknown): void => {
    const { request } = message as { request: ClientRequest };
    const entry: Tracked = {
      operation: operationOf(request.method, request.path, request.getHeader('x-amz-copy-source') !== undefined), request, answered: false,
    };
    this.open.add(entry);
    request.once('response', () => {
      entry.answered = true;
      this.open.delete(entry);
    });
    request.once('close', () => this.open.delete(entry));
  };

  constructor() {
    subscribe(START, this.onStart);
  }

  close(): void {
    unsubscribe(START, this.onStart);
  }

  /**
   * Requests that reached a connected socket (request line and headers
   * written; a body may still be going) and have no response yet.
   */
  inFlight(): WireRequest[] {
    return [...this.open].filter((e) => !e.answered && e.request.socket !== null && !e.request.socket.connecting);
  }
}
