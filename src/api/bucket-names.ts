import { S3Error } from '../errors.js';

/** S3's general-purpose bucket naming rules. */
export function validateBucketName(name: string): void {
  const fail = (why: string): never => {
    throw new S3Error('InvalidBucketName', `The specified bucket is not valid: ${why}`, { BucketName: name });
  };
  if (name.length < 3 || name.length > 63) fail('names must be between 3 and 63 characters long');
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) fail('names use lowercase letters, digits, dots and hyphens, and begin and end with a letter or digit');
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) fail('dots may not be adjacent to dots or hyphens');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) fail('names may not be formatted as an IP address');
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)) {
    fail('names may not use a reserved prefix or suffix');
  }
}
