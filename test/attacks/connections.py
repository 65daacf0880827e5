#!/usr/bin/env python3
"""Opens N idle TCP connections to a lab address and holds them for S seconds (lab namespaces only)."""
import json, socket, sys, time
host, port, n, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
if not host.startswith('10.77.') or n > 5000 or seconds > 120:
    sys.exit('refusing: lab addresses, at most 5000 connections and 120 s')
held, refused = [], 0
for _ in range(n):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, port))
        held.append(s)
    except OSError:
        refused += 1
        s.close()
time.sleep(seconds)
closed = 0
for s in held:
    s.setblocking(False)
    try:
        if s.recv(1) == b'':
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print(json.dumps({'opened': len(held), 'refused': refused, 'closedByServer': closed}))
