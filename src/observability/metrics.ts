import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metadata } from '../store/types.js';

/** The Prometheus instruments one process updates; the primary aggregates them across workers. */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'operation' | 'status'>;
  readonly duration: Histogram<'operation'>;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
}

/** `processMetrics`: whether to report this process (off when Cairn runs inside another program's process). */
export function createMetrics(metadata: Metadata | undefined, processMetrics = true): Metrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'cairn_process_' });
  const metrics: Metrics = {
    registry,
    requests: new Counter({ name: 'cairn_requests_total', help: 'S3 requests by operation and HTTP status', labelNames: ['operation', 'status'], registers: [registry] }),
    duration: new Histogram({
      name: 'cairn_request_duration_seconds', help: 'S3 request latency by operation', labelNames: ['operation'], registers: [registry],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
    bytesIn: new Counter({ name: 'cairn_received_bytes_total', help: 'Request body bytes received', registers: [registry] }),
    bytesOut: new Counter({ name: 'cairn_sent_bytes_total', help: 'Response bytes sent', registers: [registry] }),
  };
  if (metadata) {
    // Storage totals come from the store when scraped; one process reports them ("omit" aggregation would double them).
    new Gauge({
      name: 'cairn_bucket_objects', help: 'Objects stored per bucket', labelNames: ['bucket'], registers: [registry],
      aggregator: 'max',
      async collect() {
        this.reset();
        for (const s of await metadata.bucketStats()) this.set({ bucket: s.bucket }, s.objects);
      },
    });
    new Gauge({
      name: 'cairn_bucket_bytes', help: 'Bytes stored per bucket', labelNames: ['bucket'], registers: [registry],
      aggregator: 'max',
      async collect() {
        this.reset();
        for (const s of await metadata.bucketStats()) this.set({ bucket: s.bucket }, s.bytes);
      },
    });
  }
  return metrics;
}

/** What the lifecycle worker did, counted in the one process that runs it. */
export interface LifecycleMetrics {
  readonly transitions: Counter<'storage_class'>;
  readonly expirations: Counter;
  readonly abortedUploads: Counter;
  readonly archived: Counter;
  readonly restores: Counter<'event'>;
}

export function createLifecycleMetrics(registry: Registry): LifecycleMetrics {
  const registers = [registry];
  return {
    transitions: new Counter({ name: 'cairn_lifecycle_transitions_total', help: 'Objects moved to another storage class by lifecycle rules', labelNames: ['storage_class'], registers }),
    expirations: new Counter({ name: 'cairn_lifecycle_expirations_total', help: 'Objects deleted by lifecycle expiration', registers }),
    abortedUploads: new Counter({ name: 'cairn_lifecycle_aborted_uploads_total', help: 'Incomplete multipart uploads aborted by lifecycle rules', registers }),
    archived: new Counter({ name: 'cairn_lifecycle_archived_total', help: 'Objects whose bytes moved from hot to cold storage', registers }),
    restores: new Counter({ name: 'cairn_restores_total', help: 'Restores of archived objects completed, and restored copies expired', labelNames: ['event'], registers }),
  };
}
