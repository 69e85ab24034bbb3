# The seed's "low-level client" script (shared/seeds/000_30af341b01302cf6.txt),
# unchanged but for the endpoint.
import boto3
import pprint as pp

endpoint = 'ENDPOINT'

cos = boto3.client('s3', endpoint_url=endpoint)

print('These are the buckets in this service account:')
buckets = cos.list_buckets()
pp.pprint(buckets, width=180)

for bucket in buckets['Buckets']:
    name = bucket['Name']
    print("Raw output from 'list_buckets()' in %s:" % name)
    objects = cos.list_objects(Bucket=name)
    pp.pprint(objects)
