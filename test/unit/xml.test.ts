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

test('numeric character references are read as the character they name', () => {
  const doc = parseXml('<CompleteMultipartUpload><Part><ETag>&#34;8469&#x22;</ETag></Part><Part><ETag>it&#39;s&#x1F600;&#10;&#x0D;&amp;</ETag></Part></CompleteMultipartUpload>', 'CompleteMultipartUpload');
  const etags = childrenOf(doc, 'Part').map((p) => textOf(p, 'ETag'));
  assert.deepEqual(etags, ['"8469"', "it's\u{1F600}\n\r&"]);
});

test('character data sections keep references literal', () => {
  assert.equal(textOf(parseXml('<Delete><Key><![CDATA[a&#34;b&#0;]]></Key></Delete>', 'Delete'), 'Key'), 'a&#34;b&#0;');
});

test('references to characters XML does not allow, or not well formed, are MalformedXML', () => {
  for (const ref of ['&#0;', '&#x1;', '&#xD800;', '&#xFFFE;', '&#x110000;', '&#99999999999;', '&#;', '&#x;', '&#X22;', '&#12a;', '&#34']) {
    assert.throws(() => parseXml(`<Delete><Object><Key>a${ref}b</Key></Object></Delete>`, 'Delete'), { code: 'MalformedXML' }, ref);
  }
});

test('a carriage return is written as a reference, so that parsers do not fold CRLF into LF', () => {
  const xml = renderXml('Deleted', { Key: 'a\r\nb' }, null);
  assert.ok(xml.includes('<Key>a&#xD;\nb</Key>'), xml);
  assert.equal(textOf(parseXml(xml, 'Deleted'), 'Key'), 'a\r\nb');
});
