"""The bed's S3 endpoint (objectstore node): credentials and a few calls through curl's SigV4.

curl 7.88 signs requests itself (`--aws-sigv4`) but omits `x-amz-content-sha256`, which RGW
requires: the header is added with UNSIGNED-PAYLOAD. No SDK needed on the controller.
"""

from __future__ import annotations

import secrets
import string
import subprocess
from dataclasses import dataclass, field

REGION = 'us-east-1'  # any name works against RGW; Distribution wants one next to regionendpoint


class S3Error(RuntimeError):
    pass


def new_credentials():
    """(access key, secret key) as AWS shapes them: 20 upper-case alphanumerics, 40 characters."""
    upper, mixed = string.ascii_uppercase + string.digits, string.ascii_letters + string.digits
    return ''.join(secrets.choice(upper) for dummy in range(20)), ''.join(secrets.choice(mixed) for dummy in range(40))


@dataclass
class S3:
    endpoint: str      # http://<objectstore ip>:7480
    access_key: str
    secret_key: str = field(repr=False)
    region: str = REGION

    def request(self, method, path, data=None, timeout=30, check=True):
        """One signed request; returns (http status, body bytes). check: raise S3Error unless 2xx."""
        cmd = ['curl', '-sS', '-X', method, '--aws-sigv4', 'aws:amz:%s:s3' % self.region,
               '--user', '%s:%s' % (self.access_key, self.secret_key),
               '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '-o', '-', '-w', '\n%{http_code}',
               '--max-time', str(timeout)]
        if data is not None:
            cmd += ['--data-binary', '@-', '-H', 'Content-Type: application/octet-stream']
        proc = subprocess.run(cmd + [self.endpoint.rstrip('/') + '/' + path.lstrip('/')],
                              input=data if data is not None else b'', capture_output=True,
                              timeout=timeout + 5, check=False)
        body, dummy, status = proc.stdout.rpartition(b'\n')
        code = int(status) if status.strip().isdigit() else 0
        if check and not 200 <= code < 300:
            detail = '%s %s' % (body[:500].decode(errors='replace'), proc.stderr.decode(errors='replace').strip())
            raise S3Error('S3 %s %s: HTTP %s %s' % (method, path, code, detail))
        return code, body

    def create_bucket(self, bucket):
        return self.request('PUT', bucket)[0]

    def put(self, bucket, key, data):
        return self.request('PUT', '%s/%s' % (bucket, key), data=data)[0]

    def get(self, bucket, key):
        return self.request('GET', '%s/%s' % (bucket, key))[1]

    def list_buckets(self):
        body = self.request('GET', '')[1].decode()
        return [part.split('</Name>')[0] for part in body.split('<Name>')[1:]]

    def answers(self):
        """True once the endpoint answers S3 (an authenticated ListBuckets)."""
        try:
            return self.request('GET', '', timeout=5, check=False)[0] == 200
        except subprocess.TimeoutExpired:
            return False

    def registry_storage(self, bucket, rootdirectory='/registry'):
        """The `storage.s3` block of a Distribution 2.8 config.yml for this endpoint."""
        return {'s3': {'accesskey': self.access_key, 'secretkey': self.secret_key, 'region': self.region,
                       'regionendpoint': self.endpoint, 'bucket': bucket, 'secure': False, 'v4auth': True,
                       'rootdirectory': rootdirectory},
                'redirect': {'disable': True}}
