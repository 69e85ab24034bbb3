import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, renderXml, textOf, childrenOf } from '../../src/xml.js';

test('renders nested elements, repeated lists, and skips undefined', () => {
  const xml = renderXml('ListBucketResult', { Name: 'b', Marker: '', Gone: undefined, Contents: [{ Key: 'a' }, { Key: 'b' }], IsTruncated: false, MaxKeys: 1000 });
  assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    + '<Name>b</Name><Marker></Marker><Contents><Key>a</Key></Contents><Contents><Key>b</Key></Contents><IsTruncated>false</IsTruncated><MaxKeys>1000</MaxKeys></ListBucketResult>');
});

test('escapes markup and control characters so keys survive a round trip through a parser', () => {
  const key = 'a&b<c>"d\'e\u0001f\tg';
  const xml = renderXml('Delete', { Object: { Key: key } }, null);
  assert.ok(xml.includes('&#x1;'));
  assert.equal(textOf(childrenOf(parseXml(xml.replace('&#x1;', ''), 'Delete'), 'Object')[0], 'Key'), key.replace('\u0001', ''));
});

test('root text and documents without a namespace', () => {
  assert.equal(renderXml('LocationConstraint', { '#text': 'EU' }), '<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">EU</LocationConstraint>');
  assert.equal(renderXml('Error', { Code: 'NoSuchKey' }, null), '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code></Error>');
});

test('document type declarations are refused', () => {
  assert.throws(() => parseXml('<!DOCTYPE x [<!ENTITY a "b">]><Delete><Object><Key>&a;</Key></Object></Delete>', 'Delete'), { code: 'MalformedXML' });
  assert.throws(() => parseXml('<Other/>', 'Delete'), { code: 'MalformedXML' });
  assert.throws(() => parseXml('<Delete><a></Delete>', 'Delete'), { code: 'MalformedXML' });
});
