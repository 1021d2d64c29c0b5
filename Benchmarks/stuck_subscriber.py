#!/usr/bin/env python3
"""Memory held for a subscriber that never reads, ours and Mosquitto's.

One client subscribes to `big/#` at QoS 1 and never reads its socket; another
publishes MESSAGES messages of PAYLOAD_MIB MiB at QoS 1. Each broker, with
its default limits, is measured for resident memory (from /proc) once the
publisher is done (or has been held back for 30 s), and its own count of
dropped messages is read from `$SYS/broker/publish/messages/dropped`.

    python3 Benchmarks/stuck_subscriber.py          # MESSAGES=100 PAYLOAD_MIB=4
"""
import os, socket, struct, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import BIN, empty_home, free_port, rss_kib, wait_listening  # noqa: E402

MESSAGES = int(os.environ.get("MESSAGES", "100"))
PAYLOAD = int(float(os.environ.get("PAYLOAD_MIB", "4")) * 1024 * 1024)


def remaining_length(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(first, body):
    return bytes([first]) + remaining_length(len(body)) + body


def string(text):
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def connect(port, client_id, receive_buffer=None):
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", port))
    sock.sendall(packet(0x10, string("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 600) + string(client_id)))
    return sock


def read_sys_dropped(port):
    sock = connect(port, "stuck-reader")
    sock.recv(4)
    sock.sendall(packet(0x82, struct.pack("!H", 1) + string("$SYS/broker/publish/messages/dropped") + bytes([0])))
    sock.settimeout(15)
    data = b""
    deadline = time.time() + 15
    while time.time() < deadline:
        data += sock.recv(65536)
        index = data.find(b"dropped")
        if index >= 0 and len(data) > index + 7:
            sock.close()
            return data[index + 7:].decode(errors="replace")
    return "?"


def measure(kind, workdir):
    port = free_port()
    if kind == "HomeRules":
        command = [BIN, "serve", "--listen", f"127.0.0.1:{port}", "--devices", empty_home(workdir), "--rules", empty_home(workdir),
                   "--database", os.path.join(workdir, f"stuck-{port}.sqlite"), "--log-level", "error"]
    else:
        config = os.path.join(workdir, f"mosquitto-{port}.conf")
        with open(config, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_type error\nsys_interval 1\n")
        command = ["mosquitto", "-c", config]
    broker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        before = rss_kib(broker.pid)
        stuck = connect(port, "stuck", receive_buffer=4096)
        stuck.sendall(packet(0x82, struct.pack("!H", 1) + string("big/#") + bytes([1])))
        time.sleep(0.5)  # the subscription in place before the load; not a measurement
        publisher = connect(port, "camera")
        acknowledged = [0]

        def read_acks():
            publisher.settimeout(None)
            data = b""
            while True:
                chunk = publisher.recv(65536)
                if not chunk:
                    return
                data += chunk
                acknowledged[0] = data.count(b"\x40\x02")

        threading.Thread(target=read_acks, daemon=True).start()
        payload = b"\x42" * PAYLOAD
        started = time.time()
        sender_done = threading.Event()

        def send_all():
            for index in range(MESSAGES):
                publisher.sendall(packet(0x32, string("big/frame") + struct.pack("!H", index % 65535 + 1) + payload))
            sender_done.set()

        threading.Thread(target=send_all, daemon=True).start()
        sender_done.wait(timeout=60)
        time.sleep(2)
        peak = rss_kib(broker.pid)
        time.sleep(11)  # a $SYS refresh after the last drop (ours every 10 s)
        dropped = read_sys_dropped(port)
        return {"broker": kind, "sent": MESSAGES if sender_done.is_set() else "held back", "acknowledged": acknowledged[0],
                "dropped": dropped, "rss_mib": (peak - before) / 1024, "seconds": time.time() - started}
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            broker.kill()


def main():
    with tempfile.TemporaryDirectory() as workdir:
        print(f"| broker | {MESSAGES} × {PAYLOAD / 1048576:g} MiB QoS 1 to a subscriber that never reads | acknowledged | dropped ($SYS) | memory held (MiB) |")
        print("|---|---|---|---|---|")
        for kind in ("HomeRules", "Mosquitto"):
            result = measure(kind, workdir)
            print(f"| {kind} | sent {result['sent']} in {result['seconds']:.1f} s | {result['acknowledged']} | {result['dropped']} | {result['rss_mib']:,.0f} |")


if __name__ == "__main__":
    main()
