#!/usr/bin/env python3
"""Sends unauthenticated requests (unknown long paths, refused admin actions) to a lab API for S seconds."""
import http.client, json, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
if not host.startswith('10.77.') or seconds > 120:
    sys.exit('refusing: lab addresses and at most 120 s')
long_path = '/v1/' + 'x' * 4000
end = time.monotonic() + seconds
sent = errors = 0
conn = None
while time.monotonic() < end:
    try:
        if conn is None:
            conn = http.client.HTTPConnection(host, port, timeout=2)
        if sent % 2 == 0:
            conn.request('GET', f'{long_path}{sent}')
        else:
            conn.request('POST', '/v1/takeover', headers={'Authorization': f'Bearer guess-{sent}'})
        conn.getresponse().read()
        sent += 1
    except Exception:
        errors += 1
        conn = None
print(json.dumps({'sent': sent, 'errors': errors, 'seconds': seconds}))
