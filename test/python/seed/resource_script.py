# The seed's "service resource" script (shared/seeds/000_30af341b01302cf6.txt). Two
# changes only: the endpoint, and `print("  - %s") % obj.key`, which is Python 2
# syntax, written as the Python 3 call that prints the same line.
import boto3

endpoint = 'ENDPOINT'

cos = boto3.resource('s3', endpoint_url=endpoint)

for bucket in cos.buckets.all():
    print(bucket.name)
    for obj in bucket.objects.all():
        print("  - %s" % obj.key)
