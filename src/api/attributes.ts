import { S3Error } from '../errors.js';
import { httpDate, sendXml } from '../http/respond.js';
import type { ObjectHead } from '../store/types.js';
import type { XmlObject } from '../xml.js';
import type { RequestContext } from './context.js';
import { loadObjectHead } from './get.js';

/** What GetObjectAttributes can be asked for (x-amz-object-attributes), in the order S3 answers them. */
const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

/** The most parts one answer lists, as for ListParts. */
const MAX_PARTS = 1000;
const MAX_PART_NUMBER_MARKER = 2 ** 31 - 1;

/** GetObjectAttributes: an object's metadata without its body, a multipart object's parts paged. */
export async function getObjectAttributes(ctx: RequestContext): Promise<void> {
  const wanted = attributesFrom(ctx.req.headers['x-amz-object-attributes']);
  const maxParts = maxPartsFrom(ctx.req.headers['x-amz-max-parts']);
  const marker = partNumberMarkerFrom(ctx.req.headers['x-amz-part-number-marker']);
  const record = await loadObjectHead(ctx);
  const content: XmlObject = {};
  if (wanted.has('ETag')) content.ETag = record.etag;
  if (wanted.has('Checksum') && record.checksum) {
    content.Checksum = { [`Checksum${record.checksum.algorithm}`]: record.checksum.value, ChecksumType: record.checksum.type };
  }
  if (wanted.has('ObjectParts')) {
    const parts = objectParts(record, marker, maxParts);
    if (parts) content.ObjectParts = parts;
  }
  if (wanted.has('StorageClass')) content.StorageClass = record.storageClass;
  if (wanted.has('ObjectSize')) content.ObjectSize = record.size;
  sendXml(ctx.res, 200, 'GetObjectAttributesResponse', content, {
    'Last-Modified': httpDate(record.lastModified),
    ...(record.versionId !== 'null' ? { 'x-amz-version-id': record.versionId } : {}),
  });
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function attributesFrom(header: string | string[] | undefined): Set<Attribute> {
  const names = (headerText(header) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new S3Error('InvalidArgument', 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty', { ArgumentName: 'x-amz-object-attributes' });
  const unknown = names.find((n) => !(ATTRIBUTES as readonly string[]).includes(n));
  if (unknown !== undefined) throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes', ArgumentValue: unknown });
  return new Set(names as Attribute[]);
}

/** S3 ignores an x-amz-max-parts it cannot read, and lists at most 1000 parts. */
function maxPartsFrom(header: string | string[] | undefined): number {
  const raw = headerText(header)?.trim();
  return raw !== undefined && /^\d{1,10}$/.test(raw) ? Math.min(Number(raw), MAX_PARTS) : MAX_PARTS;
}

function partNumberMarkerFrom(header: string | string[] | undefined): number {
  const raw = headerText(header)?.trim();
  if (raw === undefined) return 0;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > MAX_PART_NUMBER_MARKER) {
    throw new S3Error('InvalidArgument', `Argument part-number-marker must be an integer between 0 and ${MAX_PART_NUMBER_MARKER}`, { ArgumentName: 'x-amz-part-number-marker', ArgumentValue: raw });
  }
  return Number(raw);
}

/** The parts after `marker` of a multipart object (its extents, numbered from 1); undefined for other objects. */
function objectParts(record: ObjectHead, marker: number, maxParts: number): XmlObject | undefined {
  if (record.data.kind !== 'blobs' || !record.etag.includes('-')) return undefined;
  const extents = record.data.extents;
  const page = extents.slice(marker, marker + maxParts);
  const algorithm = record.checksum?.algorithm;
  const last = marker + page.length;
  return {
    PartsCount: extents.length,
    PartNumberMarker: marker,
    ...(page.length > 0 ? { NextPartNumberMarker: last } : {}),
    MaxParts: maxParts,
    IsTruncated: last < extents.length,
    Part: page.map((e, i) => ({
      ...(algorithm && e.checksum !== undefined ? { [`Checksum${algorithm}`]: e.checksum } : {}),
      PartNumber: marker + i + 1,
      Size: e.size,
    })),
  };
}
