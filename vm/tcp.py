#!/usr/bin/env python3
"""A tiny TCP and UDP transfer tool for the VM scenarios (no socat or iperf
there). ADDR is IPv4 or IPv6.

  tcp.py serve ADDR PORT
      Accepts one connection. Reads a 16-byte header (bytes up, bytes down),
      reads `up` bytes, sends `down` bytes, waits for the peer to close and
      prints "served up=N down=M".
  tcp.py send ADDR PORT UP DOWN [HOLD_FILE]
      Connects, sends UP bytes, receives DOWN bytes, prints
      "transferred up=N down=M", then keeps the connection open while
      HOLD_FILE exists (at most 60 s) so the flow stays in the flowtable
      while the caller inspects it, and closes.

  tcp.py udp-serve ADDR PORT
      Echoes every datagram back to its sender until one reads "quit" (or
      nothing comes for 30 s); prints "udp-served N".
  tcp.py udp-send ADDR PORT COUNT SIZE [HOLD_FILE]
      Sends COUNT datagrams of SIZE bytes one at a time, each after the echo
      of the previous one, prints "udp sent=N echoed=M", waits while
      HOLD_FILE exists (at most 60 s), then sends "quit".

Exits non-zero when a byte count falls short or on a timeout (30 s idle).
"""
import os
import socket
import struct
import sys
import time

CHUNK = 64 * 1024
TIMEOUT = 30.0


def recv_exact(sock, n):
    got = 0
    while got < n:
        data = sock.recv(min(CHUNK, n - got))
        if not data:
            break
        got += len(data)
    return got


def send_n(sock, n):
    block = b"x" * CHUNK
    left = n
    while left > 0:
        k = min(left, CHUNK)
        sock.sendall(block[:k])
        left -= k


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(addr, port):
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(60)
    # Tell the caller we listen (it polls for this file).
    ready = os.environ.get("TCP_READY_FILE")
    if ready:
        open(ready, "w").close()
    conn, _ = ls.accept()
    conn.settimeout(TIMEOUT)
    hdr = b""
    while len(hdr) < 16:
        data = conn.recv(16 - len(hdr))
        if not data:
            print("serve: short header", flush=True)
            return 1
        hdr += data
    up, down = struct.unpack("!QQ", hdr)
    got = recv_exact(conn, up)
    send_n(conn, down)
    conn.settimeout(90)
    while conn.recv(CHUNK):
        pass
    conn.close()
    print("served up=%d down=%d" % (got, down), flush=True)
    return 0 if got == up else 1


def send(addr, port, up, down, hold):
    s = socket.create_connection((addr, port), timeout=TIMEOUT)
    s.sendall(struct.pack("!QQ", up, down))
    send_n(s, up)
    got = recv_exact(s, down)
    print("transferred up=%d down=%d" % (up, got), flush=True)
    deadline = time.time() + 60
    while hold and os.path.exists(hold) and time.time() < deadline:
        time.sleep(0.1)
    s.close()
    return 0 if got == down else 1


def udp_serve(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(TIMEOUT)
    ready = os.environ.get("TCP_READY_FILE")
    if ready:
        open(ready, "w").close()
    n = 0
    while True:
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            break
        if data == b"quit":
            break
        s.sendto(data, peer)
        n += 1
    print("udp-served %d" % n, flush=True)
    return 0


def udp_send(addr, port, count, size, hold):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect((addr, port))
    s.settimeout(2.0)
    payload = b"u" * size
    echoed = 0
    for _ in range(count):
        s.send(payload)
        try:
            if len(s.recv(65535)) == size:
                echoed += 1
        except socket.timeout:
            pass
    print("udp sent=%d echoed=%d" % (count, echoed), flush=True)
    deadline = time.time() + 60
    while hold and os.path.exists(hold) and time.time() < deadline:
        time.sleep(0.1)
    s.send(b"quit")
    return 0 if echoed == count else 1


def main(argv):
    if len(argv) >= 3 and argv[0] == "udp-serve":
        return udp_serve(argv[1], int(argv[2]))
    if len(argv) >= 5 and argv[0] == "udp-send":
        hold = argv[5] if len(argv) > 5 else None
        return udp_send(argv[1], int(argv[2]), int(argv[3]), int(argv[4]), hold)
    if len(argv) >= 3 and argv[0] == "serve":
        return serve(argv[1], int(argv[2]))
    if len(argv) >= 5 and argv[0] == "send":
        hold = argv[5] if len(argv) > 5 else None
        return send(argv[1], int(argv[2]), int(argv[3]), int(argv[4]), hold)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
