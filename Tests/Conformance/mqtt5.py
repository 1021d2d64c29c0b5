#!/usr/bin/env python3
"""MQTT 5 interoperability tests for a broker on 127.0.0.1.

Usage: python3 Tests/Conformance/mqtt5.py --port N [--only NAME]...

Run by the broker tests against our broker (Interop: the MQTT 5 conformance
script), and by hand against any other broker to compare.

Prints "PASS name" or "FAIL name: reason" per test, then "SUMMARY passed/total";
exits 0 only if every selected test passed.  Tests use paho-mqtt where it gives
enough control, and the small raw MQTT 5 client below where it does not.
"""
import argparse, itertools, queue, random, socket, struct, sys, threading, time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

HOST, PORT = "127.0.0.1", 1883
WAIT = 5.0                                # upper bound of every single wait
RUN = "%06x" % random.getrandbits(24)     # unique per run: topics and client ids

class Fail(Exception):
    """A test expectation was not met."""

def check(cond, msg):
    if not cond:
        raise Fail(msg)

# ---------------------------------------------------------------- raw MQTT 5 client
PACKET_NAMES = [None, "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE",
                "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"]
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, \
    UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = range(1, 16)
# property identifiers used by the tests (MQTT 5.0 section 2.2.2.2)
SESSION_EXPIRY, ASSIGNED_CLIENT_ID, SERVER_KEEP_ALIVE, AUTH_METHOD = 0x11, 0x12, 0x13, 0x15
WILL_DELAY, RECEIVE_MAX, TOPIC_ALIAS_MAX, TOPIC_ALIAS = 0x18, 0x21, 0x22, 0x23
# every property id -> wire type: B/H/I 1/2/4-byte integer, V varint, S string, D binary, P string pair
PROP_TYPES = {0x01: "B", 0x02: "I", 0x03: "S", 0x08: "S", 0x09: "D", 0x0B: "V", 0x11: "I",
              0x12: "S", 0x13: "H", 0x15: "S", 0x16: "D", 0x17: "B", 0x18: "I", 0x19: "B",
              0x1A: "S", 0x1C: "S", 0x1F: "S", 0x21: "H", 0x22: "H", 0x23: "H", 0x24: "B",
              0x25: "B", 0x26: "P", 0x27: "I", 0x28: "B", 0x29: "B", 0x2A: "B"}

def enc_varint(n):
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)

def dec_varint(buf, pos):
    value, shift = 0, 0
    while True:
        value |= (buf[pos] & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not buf[pos - 1] & 0x80:
            return value, pos

def enc_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b

def dec_str(buf, pos, text=True):
    end = pos + 2 + struct.unpack_from("!H", buf, pos)[0]
    raw = bytes(buf[pos + 2:end])
    return (raw.decode() if text else raw), end

def enc_props(props):
    out = b""
    for pid, val in props:
        kind = PROP_TYPES[pid]
        if kind in "BHI":
            data = struct.pack("!" + kind, val)
        elif kind == "V":
            data = enc_varint(val)
        elif kind == "P":
            data = enc_str(val[0]) + enc_str(val[1])
        else:
            data = enc_str(val)
        out += bytes([pid]) + data
    return enc_varint(len(out)) + out

def dec_props(buf, pos):
    """Decode a property block: ({id: [values]}, position after it)."""
    length, pos = dec_varint(buf, pos)
    end, props = pos + length, {}
    while pos < end:
        pid, kind, pos = buf[pos], PROP_TYPES[buf[pos]], pos + 1
        if kind in "BHI":
            val, pos = struct.unpack_from("!" + kind, buf, pos)[0], pos + struct.calcsize("!" + kind)
        elif kind == "V":
            val, pos = dec_varint(buf, pos)
        elif kind == "P":
            key, pos = dec_str(buf, pos)
            value, pos = dec_str(buf, pos)
            val = (key, value)
        else:
            val, pos = dec_str(buf, pos, kind == "S")
        props.setdefault(pid, []).append(val)
    return props, end

class Packet:
    """A decoded control packet (the fields the tests look at)."""

    def __init__(self, first, body):
        self.type, self.flags = first >> 4, first & 0x0F
        self.props, self.rc, self.pid = {}, 0, None
        if self.type == CONNACK:
            self.present, self.rc = bool(body[0] & 1), body[1]
            self.props = dec_props(body, 2)[0] if len(body) > 2 else {}
        elif self.type == PUBLISH:
            self.qos, self.dup, self.retain = (self.flags >> 1) & 3, bool(self.flags & 8), bool(self.flags & 1)
            self.topic, pos = dec_str(body, 0)
            if self.qos:
                self.pid, pos = struct.unpack_from("!H", body, pos)[0], pos + 2
            self.props, pos = dec_props(body, pos)
            self.payload = bytes(body[pos:])
        elif self.type in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            self.pid, self.rc = struct.unpack_from("!H", body)[0], (body[2] if len(body) > 2 else 0)
        elif self.type in (SUBACK, UNSUBACK):
            self.pid = struct.unpack_from("!H", body)[0]
            self.props, pos = dec_props(body, 2)
            self.codes = list(body[pos:])
        elif self.type == DISCONNECT and body:
            self.rc = body[0]
            self.props = dec_props(body, 1)[0] if len(body) > 1 else {}

    def prop(self, pid, default=None):
        return self.props.get(pid, [default])[0]

    def __repr__(self):
        what = f"topic={self.topic!r} payload={self.payload[:30]!r} qos={self.qos}" \
            if self.type == PUBLISH else f"reason=0x{self.rc:02X}"
        return f"{PACKET_NAMES[self.type]}({what}, props={self.props})"

class Raw:
    """A minimal MQTT 5 client over a plain socket, for what paho cannot do."""

    def __init__(self, ctx=None):
        self.sock = socket.create_connection((HOST, PORT), timeout=WAIT)
        self.buf, self.pids = b"", itertools.count(1)
        if ctx:
            ctx.cleanups.append(self.close)

    def send(self, first, body=b""):
        self.sock.sendall(bytes([first]) + enc_varint(len(body)) + body)

    def _parse(self):
        buf = self.buf
        for i in range(1, min(len(buf), 5)):
            if not buf[i] & 0x80:                 # end of the Remaining Length varint
                length, pos = dec_varint(buf, 1)
                if len(buf) < pos + length:
                    return None
                self.buf = buf[pos + length:]
                return Packet(buf[0], buf[pos:pos + length])
        return None

    def recv(self, timeout=WAIT):
        """The next packet, or None after timeout seconds; raises EOFError at end of stream."""
        deadline = time.monotonic() + timeout
        while not (packet := self._parse()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                data = b""
            if not data:
                raise EOFError("connection closed by the broker")
            self.buf += data
        return packet

    def expect(self, ptype, timeout=WAIT):
        """Read up to the next packet of type ptype, skipping others."""
        deadline, name = time.monotonic() + timeout, PACKET_NAMES[ptype]
        while True:
            try:
                packet = self.recv(deadline - time.monotonic())
            except EOFError:
                raise Fail(f"connection closed by the broker while waiting for {name}")
            check(packet is not None, f"no {name} within {timeout:g}s")
            check(packet.type != DISCONNECT, f"broker sent {packet} while waiting for {name}")
            if packet.type == ptype:
                return packet

    def wait_close(self, timeout=WAIT):
        """Wait for the broker to close the connection; returns its DISCONNECT packet or None."""
        deadline, seen = time.monotonic() + timeout, []
        try:
            while True:
                packet = self.recv(deadline - time.monotonic())
                check(packet, f"broker kept the connection open for {timeout:g}s, sending {seen[-3:] or 'nothing'}")
                seen.append(packet)
        except EOFError:
            return next((p for p in seen if p.type == DISCONNECT), None)

    def connect(self, cid, clean=True, keepalive=60, props=(), will=None, must_succeed=True):
        """will = (topic, payload, will properties), sent with QoS 1, no retain."""
        flags, payload = (0x02 if clean else 0), enc_str(cid)
        if will:
            flags |= 0x04 | 1 << 3
            payload += enc_props(will[2]) + enc_str(will[0]) + enc_str(will[1])
        self.send(CONNECT << 4, enc_str("MQTT") + bytes([5, flags]) + struct.pack("!H", keepalive)
                  + enc_props(props) + payload)
        connack = self.expect(CONNACK)
        check(connack.rc == 0 or not must_succeed, f"{cid!r}: {connack}")
        return connack

    def subscribe(self, subs, props=()):
        """subs: [(filter, options byte)]; returns the SUBACK reason codes."""
        body = struct.pack("!H", next(self.pids)) + enc_props(props)
        self.send(SUBSCRIBE << 4 | 2, body + b"".join(enc_str(f) + bytes([opts]) for f, opts in subs))
        return self.expect(SUBACK).codes

    def publish(self, topic, payload, qos=0, props=()):
        pid = struct.pack("!H", next(self.pids)) if qos else b""
        self.send(PUBLISH << 4 | qos << 1, enc_str(topic) + pid + enc_props(props) + payload)

    def ack(self, ptype, pid):
        self.send(ptype << 4 | (2 if ptype == PUBREL else 0), struct.pack("!H", pid))

    def until(self, marker):
        """PUBLISH packets received before the one with payload marker; acknowledges each."""
        got = []
        while (packet := self.expect(PUBLISH)).payload != marker:
            got.append(packet)
            if packet.qos:
                self.ack(PUBACK if packet.qos == 1 else PUBREC, packet.pid)
        return got

    def ping(self):
        self.send(PINGREQ << 4)
        self.expect(PINGRESP)

    def disconnect(self, rc=0, props=()):
        """Send DISCONNECT and wait until the broker closes its side (so it has processed it)."""
        self.send(DISCONNECT << 4, bytes([rc]) + enc_props(props))
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.wait_close(2)
        except (OSError, Fail):
            pass
        self.close()

    def close(self):
        self.sock.close()

# ---------------------------------------------------------------- paho wrapper
def mkprops(ptype, **kw):
    props = Properties(ptype) if kw else None
    for name, value in kw.items():
        setattr(props, name, value)
    return props

def prop(msg, name, default=None):
    return getattr(msg.properties, name, default) if msg.properties else default

class Paho:
    """A connected paho client whose received messages go to a queue."""

    def __init__(self, ctx, cid, clean=True, sub=None, **connect_props):
        self.cid, self.msgs, self.results = cid, queue.Queue(), {}
        self.connected, self.cond = threading.Event(), threading.Condition()
        c = self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
        c.on_connect = self._on_connect
        c.on_message = lambda _c, _u, msg: self.msgs.put(msg)
        c.on_subscribe = c.on_unsubscribe = lambda _c, _u, mid, codes, _p: self._done(mid, codes)
        if ctx:
            ctx.cleanups.append(self.close)
        c.connect(HOST, PORT, keepalive=60, clean_start=clean,
                  properties=mkprops(PacketTypes.CONNECT, **connect_props))
        c.loop_start()
        check(self.connected.wait(WAIT), f"{cid}: no CONNACK")
        check(self.rc == 0, f"{cid}: CONNACK reason code 0x{self.rc:02X}")
        if sub:
            self.sub(sub)

    def _on_connect(self, _c, _u, flags, rc, props):
        self.rc, self.session_present = rc.value, flags.session_present
        self.connected.set()

    def _done(self, mid, codes):
        with self.cond:
            self.results[mid] = [c.value for c in codes]
            self.cond.notify_all()

    def _wait(self, mid, what):
        with self.cond:
            check(self.cond.wait_for(lambda: mid in self.results, WAIT), f"{self.cid}: no {what}")
            return self.results.pop(mid)

    def sub(self, topic, qos=1, no_local=False, rap=False, rh=0, sub_id=None):
        opts = SubscribeOptions(qos=qos, noLocal=no_local, retainAsPublished=rap, retainHandling=rh)
        props = mkprops(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=sub_id) if sub_id else None
        return self._wait(self.c.subscribe(topic, options=opts, properties=props)[1], "SUBACK")

    def unsub(self, topics):
        return self._wait(self.c.unsubscribe(topics)[1], "UNSUBACK")

    def pub(self, topic, payload, qos=1, retain=False, **props):
        info = self.c.publish(topic, payload, qos, retain, properties=mkprops(PacketTypes.PUBLISH, **props))
        info.wait_for_publish(WAIT)
        check(info.is_published(), f"{self.cid}: publish to {topic} not completed")

    def get(self, timeout=WAIT):
        try:
            return self.msgs.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def expect(self, what="a message", timeout=WAIT):
        msg = self.get(timeout)
        check(msg is not None, f"{self.cid}: {what} not received within {timeout:g}s")
        return msg

    def collect(self, n):
        deadline, got = time.monotonic() + WAIT, []
        while len(got) < n:
            msg = self.get(deadline - time.monotonic())
            check(msg is not None, f"{self.cid}: got {len(got)} of {n} messages: {[m.payload for m in got]}")
            got.append(msg)
        return got

    def until(self, marker):
        """Messages received before the one with payload marker (which is consumed).

        paho hands a QoS 2 message to the application only after PUBREL, so a marker
        must have the same QoS as the messages it follows to keep their order."""
        deadline, got = time.monotonic() + WAIT, []
        while (msg := self.get(deadline - time.monotonic())) is None or msg.payload != marker:
            check(msg is not None, f"{self.cid}: marker not received; got {[m.payload for m in got]}")
            got.append(msg)
        return got

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()

def barrier(receiver, sender, topic, what):
    """Publish a marker on topic; it must be the next message the receiver gets."""
    marker = f"marker-{random.getrandbits(32):08x}".encode()
    sender.pub(topic, marker, qos=1)
    before = receiver.until(marker)
    check(not before, f"{what}: received {[(m.topic, m.payload[:30]) for m in before]}")

# ---------------------------------------------------------------- per-test context
class Ctx:
    """A test's topic names, client ids and cleanups."""

    def __init__(self, name):
        self.name, self.cleanups = name, []

    def t(self, sub):
        return f"conf/{RUN}/{self.name}/{sub}"

    def cid(self, sub):
        return f"c{RUN}-{self.name}-{sub}"

    def paho(self, name, **kw):
        return Paho(self, self.cid(name), **kw)

    def raw(self, cid, **kw):
        """A raw client connected as cid; its CONNACK is in .connack."""
        r = Raw(self)
        r.connack = r.connect(cid, **kw)
        return r

    def clear_retained(self, *topics):
        def clear():
            cleaner = Paho(None, self.cid("cleaner"))
            for topic in topics:
                cleaner.pub(topic, b"", qos=1, retain=True)
            cleaner.close()
        self.cleanups.append(clear)

    def clear_session(self, cid):
        self.cleanups.append(lambda: Paho(None, cid, clean=True).close())

    def close(self):
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception:
                pass

# ---------------------------------------------------------------- tests
def test_basic(ctx):
    a, t = ctx.paho("a"), ctx.t("basic")
    check(a.sub(t, qos=2) == [2], "SUBACK did not grant QoS 2")
    for qos in (0, 1, 2):
        a.pub(t, f"qos{qos}", qos=qos)
    got = sorted((m.payload, m.qos) for m in a.collect(3))
    check(got == [(b"qos0", 0), (b"qos1", 1), (b"qos2", 2)], f"received {got}")

def test_retained(ctx):
    a, topics = ctx.paho("a"), [ctx.t(f"r/{q}") for q in range(3)]
    ctx.clear_retained(*topics)
    for qos, topic in enumerate(topics):          # QoS 2 last: its PUBCOMP means all are stored
        a.pub(topic, f"retained qos{qos}", qos=qos, retain=True)
    b = ctx.paho("b")
    b.sub(ctx.t("r/+"), qos=2)
    got = sorted((m.topic, m.payload, m.qos, m.retain) for m in b.collect(3))
    want = [(t, f"retained qos{q}".encode(), q, True) for q, t in enumerate(topics)]
    check(got == want, f"retained messages received: {got}")
    for topic in topics:                          # an empty retained message clears it
        a.pub(topic, b"", qos=1, retain=True)
    barrier(ctx.paho("c", sub=ctx.t("r/+")), a, topics[0], "retained messages still sent after being cleared")

def test_will(ctx):
    wt = ctx.t("will")
    obs, r = ctx.paho("obs", sub=wt), ctx.raw(ctx.cid("w1"), will=(wt, b"will-1", []))
    r.disconnect()                                # normal DISCONNECT: will discarded
    r = ctx.raw(ctx.cid("w2"), will=(wt, b"will-2", []))
    r.close()                                     # network close without DISCONNECT: will sent
    m = obs.expect("will message")
    check(m.payload == b"will-2", f"first message on the will topic: {m.payload!r} "
                                  "(the will of a normal DISCONNECT must be discarded)")

def test_zero_length_clientid(ctx):
    r1, r2 = ctx.raw("", clean=False), ctx.raw("", clean=True)
    for r in (r1, r2):                            # the second did not take over the first
        r.ping()
        r.disconnect()

def test_offline_queueing(ctx):
    t, cid = ctx.t("q"), ctx.cid("sub")
    ctx.clear_session(cid)
    Paho(ctx, cid, sub=t, SessionExpiryInterval=60).close()
    p = ctx.paho("pub")
    for qos in (0, 1, 2):
        p.pub(t, f"qos{qos}", qos=qos)
    a = Paho(ctx, cid, clean=False, SessionExpiryInterval=60)
    check(a.session_present, "session not present on reconnect")
    p.pub(t, b"end", qos=2)
    got = [m.payload for m in a.until(b"end")]
    check(got in ([b"qos1", b"qos2"], [b"qos0", b"qos1", b"qos2"]), f"queued messages received: {got}")

def test_overlapping_subscriptions(ctx):
    r, p = ctx.raw(ctx.cid("r")), ctx.paho("p")
    r.subscribe([(ctx.t("o/#"), 2), (ctx.t("o/+"), 1)])
    p.pub(ctx.t("o/x"), b"overlap", qos=2)
    p.pub(ctx.t("o/x"), b"end", qos=2)
    got = sorted(pk.qos for pk in r.until(b"end"))
    check(got in ([2], [1, 2]), f"got copies with QoS {got}; want one at QoS 2, or one per subscription")

def test_keepalive(ctx):
    wt = ctx.t("ka-will")
    obs, r = ctx.paho("obs", sub=wt), ctx.raw(ctx.cid("ka"), keepalive=2, will=(wt, b"expired", []))
    keepalive = r.connack.prop(SERVER_KEEP_ALIVE, 2)
    check(0 < keepalive <= 2, f"Server Keep Alive {keepalive} overrides 2")
    start = time.monotonic()
    disconnect = r.wait_close(1.5 * keepalive + 2)    # a silent client: no PINGREQ
    elapsed = time.monotonic() - start
    check(elapsed >= keepalive, f"disconnected after {elapsed:.1f}s, before the {keepalive}s keep alive")
    check(disconnect is None or disconnect.rc == 0x8D, f"{disconnect}; want 0x8D Keep Alive timeout")
    check(obs.expect("will after keep alive timeout").payload == b"expired", "wrong will payload")

def test_redelivery_on_reconnect(ctx):
    t, cid = ctx.t("rd"), ctx.cid("sub")
    ctx.clear_session(cid)
    r = ctx.raw(cid, props=[(SESSION_EXPIRY, 60)])
    check(r.subscribe([(t, 2)]) == [2], "SUBACK did not grant QoS 2")
    p = ctx.paho("pub")
    p.pub(t, b"q1", qos=1)
    p.pub(t, b"q2", qos=2)
    first = {pk.payload: pk for pk in (r.expect(PUBLISH), r.expect(PUBLISH))}
    r.close()                                     # no PUBACK / PUBREC, no DISCONNECT
    r = ctx.raw(cid, clean=False, props=[(SESSION_EXPIRY, 60)])
    check(r.connack.present, "session not present")
    again = {pk.payload: pk for pk in (r.expect(PUBLISH), r.expect(PUBLISH))}
    check(set(first) == set(again) == {b"q1", b"q2"}, f"delivered {list(first)}, redelivered {list(again)}")
    for payload, pk in again.items():
        check(pk.dup, f"{payload!r} redelivered with DUP 0 [MQTT-3.3.1-1]")
        check(pk.pid == first[payload].pid, f"{payload!r} redelivered with a new packet id [MQTT-4.4.0-1]")
    r.ack(PUBACK, again[b"q1"].pid)
    r.ack(PUBREC, again[b"q2"].pid)
    r.ack(PUBCOMP, r.expect(PUBREL).pid)
    r.disconnect(props=[(SESSION_EXPIRY, 0)])

def test_subscribe_failure(ctx):
    r, ok = ctx.raw(ctx.cid("r")), ctx.t("sf/ok")
    codes = r.subscribe([(ok, 1), (ctx.t("sf/#/bad"), 1)])
    check(len(codes) == 2 and codes[0] == 1 and codes[1] >= 0x80,
          f"SUBACK codes {[hex(c) for c in codes]}; want [0x1, a failure >= 0x80]")
    ctx.paho("p").pub(ok, b"still subscribed")
    check(r.expect(PUBLISH).payload == b"still subscribed", "wrong message")

def test_unsubscribe(ctx):
    a, p = ctx.paho("a"), ctx.paho("p")
    topics = [ctx.t(f"u/{i}") for i in range(3)]
    for topic in topics:
        a.sub(topic)
    codes = a.unsub([topics[0], topics[1], ctx.t("u/never")])
    check(codes == [0, 0, 0x11], f"UNSUBACK codes {[hex(c) for c in codes]}; want [0x0, 0x0, 0x11]")
    p.pub(topics[0], b"unsubscribed 0")
    p.pub(topics[1], b"unsubscribed 1")
    barrier(a, p, topics[2], "messages delivered after UNSUBSCRIBE")

def test_session_expiry(ctx):
    t, cid, p = ctx.t("se"), ctx.cid("s"), ctx.paho("pub")
    ctx.clear_session(cid)
    Paho(ctx, cid, sub=t, SessionExpiryInterval=1).close()
    p.pub(t, b"while away")
    a = Paho(ctx, cid, clean=False, SessionExpiryInterval=1)
    check(a.session_present, "session gone on an immediate reconnect (expiry 1 s)")
    check(a.expect("queued message").payload == b"while away", "wrong queued message")
    a.close()
    time.sleep(2.5)                               # the 1 s expiry passes
    p.pub(t, b"after expiry")
    a = Paho(ctx, cid, clean=False)
    check(not a.session_present, "session still present 2.5 s after disconnecting with a 1 s expiry")
    a.sub(t)
    barrier(a, p, t, "message queued for an expired session")

def test_user_properties(ctx):
    t, p = ctx.t("up"), ctx.paho("p")
    a = ctx.paho("a", sub=t)
    sent = [("a", "1"), ("b", "2"), ("a", "3"), ("ünï", "cödé")]
    p.pub(t, b"x", UserProperty=sent)
    got = prop(a.expect(), "UserProperty")
    check(got == sent, f"user properties {got}; sent {sent}")

def test_payload_format(ctx):
    t, p = ctx.t("pf"), ctx.paho("p")
    a = ctx.paho("a", sub=t)
    sent = [(1, "text/plain; charset=utf-8", "héllo".encode()), (0, "application/octet-stream", b"\x00\xff")]
    for pfi, ctype, payload in sent:
        p.pub(t, payload, PayloadFormatIndicator=pfi, ContentType=ctype)
    got = [(prop(m, "PayloadFormatIndicator", 0), prop(m, "ContentType"), m.payload) for m in a.collect(2)]
    check(got == sent, f"received {got}, sent {sent}")

def test_publication_expiry(ctx):
    t, rt, cid = ctx.t("pe"), ctx.t("pe-retained"), ctx.cid("sub")
    ctx.clear_session(cid)
    ctx.clear_retained(rt)
    Paho(ctx, cid, sub=t, SessionExpiryInterval=60).close()
    p = ctx.paho("pub")
    p.pub(t, b"short", MessageExpiryInterval=1)
    p.pub(t, b"long", MessageExpiryInterval=10)
    p.pub(rt, b"retained short", retain=True, MessageExpiryInterval=1)
    time.sleep(2.5)
    a = Paho(ctx, cid, clean=False, SessionExpiryInterval=60)
    check(a.session_present, "session not present on reconnect")
    m = a.expect("the unexpired message")
    check(m.payload == b"long", f"received {m.payload!r} first; the 1 s message should have expired")
    left = prop(m, "MessageExpiryInterval")
    check(left is not None and 1 <= left <= 8, f"Message Expiry Interval {left} after 2.5 s of 10 s [MQTT-3.3.2-6]")
    a.sub(rt)
    barrier(a, p, rt, "expired retained message delivered")

def test_subscribe_options(ctx):
    a, b, c = ctx.paho("a"), ctx.paho("b"), ctx.paho("c")
    nl = ctx.t("nolocal")                         # no local
    a.sub(nl, no_local=True)
    a.pub(nl, b"own")
    b.pub(nl, b"other")
    check(a.expect().payload == b"other", "no-local subscription received its own message")
    rap = ctx.t("rap")                            # retain as published
    ctx.clear_retained(rap)
    a.sub(rap, rap=True)
    b.sub(rap, rap=False)
    c.pub(rap, b"r", retain=True)
    check(a.expect().retain, "retain-as-published: live retained message arrived with RETAIN 0")
    check(not b.expect().retain, "without retain-as-published a live message must have RETAIN 0")
    rh = ctx.t("rh")                              # retain handling
    ctx.clear_retained(rh)
    c.pub(rh, b"kept", retain=True)

    def gets_retained(client, handling):
        client.sub(rh, rh=handling)
        marker = f"m{random.getrandbits(32)}".encode()
        c.pub(rh, marker)
        got = [(m.payload, m.retain) for m in client.until(marker)]
        check(got in ([], [(b"kept", True)]), f"retain handling {handling}: received {got}")
        return bool(got)

    d, e, f = ctx.paho("d"), ctx.paho("e"), ctx.paho("f")
    check(gets_retained(d, 0), "retain handling 0, new subscription: no retained message")
    check(gets_retained(d, 0), "retain handling 0, existing subscription: no retained message")
    check(gets_retained(e, 1), "retain handling 1, new subscription: no retained message")
    check(not gets_retained(e, 1), "retain handling 1, existing subscription: retained message sent")
    check(not gets_retained(f, 2), "retain handling 2: retained message sent")

def test_assigned_clientid(ctx):
    t, r = ctx.t("ac"), ctx.raw("", props=[(SESSION_EXPIRY, 30)])
    aid = r.connack.prop(ASSIGNED_CLIENT_ID)
    check(aid, f"{r.connack} without Assigned Client Identifier [MQTT-3.2.2-16]")
    ctx.clear_session(aid)
    r.subscribe([(t, 1)])
    r.disconnect()
    ctx.paho("p").pub(t, b"for the assigned id")
    r = ctx.raw(aid, clean=False, props=[(SESSION_EXPIRY, 30)])
    check(r.connack.present, f"session of {aid!r} not present")
    pk = r.expect(PUBLISH)
    check(pk.payload == b"for the assigned id", f"received {pk}")
    r.ack(PUBACK, pk.pid)
    r.disconnect(props=[(SESSION_EXPIRY, 0)])

def test_shared_subscriptions(ctx):
    t, p = ctx.t("sh"), ctx.paho("p")
    s1, s2, n = ctx.paho("s1"), ctx.paho("s2"), ctx.paho("n", sub=t)
    for s in (s1, s2):
        check(s.sub(f"$share/grp/{t}") == [1], "shared SUBSCRIBE refused")
    sent = [f"m{i}".encode() for i in range(10)]
    for payload in sent:
        p.pub(t, payload)
    check(sorted(m.payload for m in n.collect(10)) == sorted(sent), "non-shared subscriber missed messages")
    deadline = time.monotonic() + WAIT
    while s1.msgs.qsize() + s2.msgs.qsize() < len(sent) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)                               # a duplicate would follow at once
    got = {s.cid: [m.payload for m in iter(lambda s=s: s.get(0), None)] for s in (s1, s2)}
    everything = got[s1.cid] + got[s2.cid]
    check(sorted(everything) == sorted(sent), f"shared group received {everything}; want each once")
    check(all(got.values()), f"one member got nothing: {got}")

def test_server_topic_alias(ctx):
    r, p = ctx.raw(ctx.cid("r"), props=[(TOPIC_ALIAS_MAX, 2)]), ctx.paho("p")
    r.subscribe([(ctx.t("#"), 0)])
    names = "aaabcda"                             # more topics than the 2 aliases the client allows
    for x in names:
        p.pub(ctx.t(x), x)
    pks, aliases = [r.expect(PUBLISH) for _ in names], {}
    alias = pks[0].prop(TOPIC_ALIAS)
    check(pks[0].topic == ctx.t("a") and alias in (1, 2), f"first {pks[0]}; want the topic and an alias 1..2")
    for pk in pks[1:3]:
        check(pk.topic == "" and pk.prop(TOPIC_ALIAS) == alias, f"repeated {pk}; want topic '' and alias {alias}")
    for x, pk in zip(names, pks):                 # every alias is within 1..2 and maps to the right topic
        if pk.topic and pk.prop(TOPIC_ALIAS):
            aliases[pk.prop(TOPIC_ALIAS)] = pk.topic
        got = (pk.topic or aliases.get(pk.prop(TOPIC_ALIAS)), pk.payload)
        check(pk.prop(TOPIC_ALIAS) in (None, 1, 2) and got == (ctx.t(x), x.encode()), f"{pk} (aliases {aliases})")

def test_client_topic_alias(ctx):
    t, r = ctx.t("cta"), ctx.raw(ctx.cid("r"))
    check(r.connack.prop(TOPIC_ALIAS_MAX, 0) >= 1, "server Topic Alias Maximum is 0")
    s = ctx.paho("s", sub=t)
    r.publish(t, b"with topic", qos=1, props=[(TOPIC_ALIAS, 1)])
    r.publish("", b"alias only", qos=1, props=[(TOPIC_ALIAS, 1)])
    acks = [r.expect(PUBACK), r.expect(PUBACK)]
    check(all(ack.rc < 0x80 for ack in acks), f"acknowledgements {acks}")
    got = [(m.topic, m.payload) for m in s.collect(2)]
    check(got == [(t, b"with topic"), (t, b"alias only")], f"subscriber received {got}")
    r2 = ctx.raw(ctx.cid("r2"))                   # aliases are per connection: unknown on a new one
    r2.publish("", b"unknown alias", qos=1, props=[(TOPIC_ALIAS, 1)])
    disconnect = r2.wait_close()
    check(disconnect is None or disconnect.rc in (0x82, 0x94), f"unknown alias: {disconnect}; want 0x82 or 0x94")

def test_maximum_packet_size(ctx):
    t, p = ctx.t("mps"), ctx.paho("p")
    a = ctx.paho("a", sub=t, MaximumPacketSize=256)
    p.pub(t, b"x" * 1000)
    p.pub(t, b"small")
    m = a.expect()
    check(m.payload == b"small", f"received a {len(m.payload)}-byte payload despite Maximum Packet Size 256")

def test_flow_control1(ctx):
    t, r = ctx.t("fc1"), ctx.raw(ctx.cid("r"), props=[(RECEIVE_MAX, 2)])
    r.subscribe([(t, 1)])
    witness, p = ctx.paho("w", sub=t), ctx.paho("p")
    for i in range(3):
        p.pub(t, f"m{i}")
    witness.collect(3)                            # the broker has routed all three
    first = [r.expect(PUBLISH) for _ in range(2)]
    extra = r.recv(1.0)
    check(extra is None, f"{extra} arrived with 2 unacknowledged QoS 1 messages and Receive Maximum 2")
    r.ack(PUBACK, first[0].pid)
    third = r.expect(PUBLISH)
    check([pk.payload for pk in first + [third]] == [b"m0", b"m1", b"m2"], "wrong messages")
    r.ack(PUBACK, first[1].pid)
    r.ack(PUBACK, third.pid)

def test_flow_control2(ctx):
    t, r = ctx.t("fc2"), ctx.raw(ctx.cid("r"))
    limit = r.connack.prop(RECEIVE_MAX, 65535)
    check(limit <= 1000, f"server Receive Maximum {limit} too large to exceed in a test")
    for _ in range(limit):                        # QoS 2, never released: all stay in flight
        r.publish(t, b"x", qos=2)
    for _ in range(limit):
        r.expect(PUBREC)
    r.publish(t, b"one too many", qos=2)
    disconnect = r.wait_close()
    check(disconnect is not None and disconnect.rc == 0x93, f"after {limit + 1} unreleased QoS 2 publishes "
          f"(Receive Maximum {limit}): {disconnect or 'closed without DISCONNECT'}; want DISCONNECT 0x93")

def test_will_delay(ctx):
    wt, p = ctx.t("wd"), ctx.paho("p")
    obs, cid1, cid2 = ctx.paho("obs", sub=wt), ctx.cid("w1"), ctx.cid("w2")
    ctx.clear_session(cid1)
    ctx.clear_session(cid2)
    r = ctx.raw(cid1, props=[(SESSION_EXPIRY, 5)], will=(wt, b"delayed", [(WILL_DELAY, 1)]))
    start = time.monotonic()
    r.close()
    m = obs.expect("delayed will")
    elapsed = time.monotonic() - start
    check(m.payload == b"delayed", f"received {m.payload!r}")
    check(elapsed >= 0.9, f"will sent {elapsed:.2f}s after the disconnect, before its 1 s delay")
    # reconnecting within the delay cancels the will
    r = ctx.raw(cid2, props=[(SESSION_EXPIRY, 5)], will=(wt, b"cancelled", [(WILL_DELAY, 2)]))
    r.close()
    time.sleep(0.3)
    r = ctx.raw(cid2, clean=False, props=[(SESSION_EXPIRY, 5)])
    check(r.connack.present, "session not present")
    time.sleep(2.5)                               # past the 2 s will delay
    r.disconnect(props=[(SESSION_EXPIRY, 0)])
    barrier(obs, p, wt, "will sent although the client reconnected within the will delay")

def test_request_response(ctx):
    rt, qt = ctx.t("rr/response"), ctx.t("rr/request")
    req, srv = ctx.paho("req", sub=rt, RequestResponseInformation=1), ctx.paho("srv", sub=qt)
    corr = b"\x00\xff" + random.randbytes(8)
    req.pub(qt, b"question", ResponseTopic=rt, CorrelationData=corr)
    m = srv.expect("request")
    got = (prop(m, "ResponseTopic"), prop(m, "CorrelationData"))
    check(got == (rt, corr), f"request arrived with response topic and correlation data {got}")
    srv.pub(got[0], b"answer", CorrelationData=got[1])
    m = req.expect("response")
    got = (m.payload, prop(m, "CorrelationData"))
    check(got == (b"answer", corr), f"response {got}")

def test_subscription_identifiers(ctx):
    a, p = ctx.paho("a"), ctx.paho("p")
    a.sub(ctx.t("si/#"), sub_id=1)
    a.sub(ctx.t("si/+"), sub_id=2)
    a.sub(ctx.t("si/plain/#"))
    p.pub(ctx.t("si/x/y"), b"deep")               # matches si/# only
    p.pub(ctx.t("si/x"), b"both")                 # matches si/# and si/+
    p.pub(ctx.t("si/plain/z"), b"plain")          # matches si/# and the subscription without id
    p.pub(ctx.t("si/x/y"), b"end")
    got = {}
    for m in a.until(b"end"):
        got.setdefault(m.payload, []).append(sorted(prop(m, "SubscriptionIdentifier", [])))
    check(got.get(b"deep") == [[1]], f"'deep' copies had ids {got.get(b'deep')}; want [[1]]")
    both = sorted(got.get(b"both", []))
    check(both in ([[1, 2]], [[1], [2]]), f"'both' copies had ids {both}; want [[1, 2]] or [[1], [2]]")
    plain = sorted(got.get(b"plain", []))
    check(plain in ([[1]], [[], [1]]), f"'plain' copies had ids {plain}; want [[1]] or [[], [1]]")

def test_auth_method(ctx):
    r = ctx.raw(ctx.cid("r"), props=[(AUTH_METHOD, "conformance-unknown")], must_succeed=False)
    check(r.connack.rc == 0x8C, f"{r.connack}; want reason 0x8C Bad authentication method")
    r.wait_close()

def test_subscription_failure_codes(ctx):
    r = ctx.raw(ctx.cid("r"))
    for bad in (ctx.t("#/x"), ctx.t("x#"), ctx.t("x+/y")):
        codes = r.subscribe([(bad, 1)])
        check(codes == [0x8F], f"SUBACK {[hex(c) for c in codes]} for {bad!r}; want [0x8f] Topic Filter invalid")
    r.ping()                                      # still connected

# ---------------------------------------------------------------- main
TESTS = {name.removeprefix("test_"): fn for name, fn in globals().items() if name.startswith("test_")}

def main():
    global PORT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--only", action="append", choices=list(TESTS), metavar="NAME",
                    help="run only this test (repeatable): " + ", ".join(TESTS))
    args = ap.parse_args()
    PORT = args.port
    names, passed = args.only or list(TESTS), 0
    for name in names:
        ctx, failure = Ctx(name), None
        try:
            TESTS[name](ctx)
        except Fail as e:
            failure = str(e)
        except Exception as e:
            failure = f"{type(e).__name__}: {e}"
        finally:
            ctx.close()
        passed += failure is None
        print(f"PASS {name}" if failure is None else f"FAIL {name}: {failure}", flush=True)
    print(f"SUMMARY {passed}/{len(names)}")
    return 0 if passed == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
