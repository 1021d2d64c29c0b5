import Foundation
import TestSupport

/// A paho-mqtt (Python, 2.x) client run as a separate process: the second
/// independent MQTT implementation the broker is proven against.
///
/// The script does, in this order and each step bounded by `--timeout`:
/// connect (with `--will`, `--persistent`, `--keepalive`), `--subscribe`,
/// `--idle` seconds, `--publish`, `--expect` N messages, `--until-disconnected`, then
/// leaves as `--end` says (`disconnect`; `vanish`: exit without DISCONNECT;
/// `linger`: stay connected until killed). `--publish T --count N` with N > 1
/// sends the payloads `<payload>0` ... `<payload>N-1`. It prints one event
/// per line, words separated by spaces:
///
///     CONNACK <session present 0|1> <return code>
///     SUBACK <granted QoS or 128, comma-separated>
///     MESSAGE <topic> <qos> <retain 0|1> <dup 0|1> <payload>
///     PUBLISHED <count>
///     IDLE <still connected 0|1> <PINGREQs sent> <PINGRESPs received>
///     DISCONNECTED <reason code>
///     DONE | VANISHING | LINGERING | TIMEOUT <step>
final class InteropPaho: Sendable {
    let process: BackgroundProcess
    private let directory: TemporaryDirectory

    /// Starts the script against the broker on `port`.
    init(port: Int, _ arguments: [String]) throws {
        let python = try Peers.requirePaho()
        directory = try TemporaryDirectory()
        let script = directory.file("interop_paho_peer.py")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        process = try BackgroundProcess(python, ["-u", script.path, "--port", "\(port)"] + arguments)
    }

    /// Every event printed so far.
    var events: [String] { process.interopLines }

    /// The events of one kind (`MESSAGE`, `CONNACK`, ...), without the kind.
    func events(_ kind: String) -> [String] {
        events.compactMap { line in
            line.hasPrefix(kind + " ") ? String(line.dropFirst(kind.count + 1)) : nil
        }
    }

    /// The MESSAGE events, as `topic qos retain dup payload`.
    var messages: [String] { events("MESSAGE") }

    /// Waits until `condition` holds on the events printed so far.
    func waitFor(_ timeout: Duration = .seconds(30), _ condition: ([String]) -> Bool) async -> Bool {
        await interopWait(timeout) { condition(events) }
    }

    /// Waits until an event of `kind` has been printed.
    func waitFor(_ kind: String, timeout: Duration = .seconds(30)) async -> Bool {
        await waitFor(timeout) { events in events.contains { $0 == kind || $0.hasPrefix(kind + " ") } }
    }

    /// Waits for the script to finish; nil if it is still running.
    func exitStatus(within timeout: Duration = .seconds(30)) async -> Int32? {
        await process.interopExit(within: timeout)
    }

    /// SIGKILL: the client vanishes as a device losing power does.
    func kill() { process.kill9() }

    func stop() { process.stop() }

    private static let script = #"""
# The paho-mqtt peer of the Interop tests; see InteropPaho.
import argparse, os, sys, threading, time
import paho.mqtt.client as mqtt

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--id", default="")
parser.add_argument("--persistent", action="store_true")
parser.add_argument("--protocol", choices=["31", "311"], default="311")
parser.add_argument("--keepalive", type=int, default=60)
parser.add_argument("--will", nargs=4, metavar=("TOPIC", "PAYLOAD", "QOS", "RETAIN"))
parser.add_argument("--subscribe", action="append", default=[], metavar="FILTER:QOS")
parser.add_argument("--publish", metavar="TOPIC")
parser.add_argument("--qos", type=int, default=0)
parser.add_argument("--retain", action="store_true")
parser.add_argument("--count", type=int, default=1)
parser.add_argument("--payload", default="message")
parser.add_argument("--idle", type=float, default=0)
parser.add_argument("--expect", type=int, default=0)
parser.add_argument("--until-disconnected", action="store_true")
parser.add_argument("--end", choices=["disconnect", "vanish", "linger"], default="disconnect")
parser.add_argument("--timeout", type=float, default=30)
args = parser.parse_args()

def say(*parts):
    print(" ".join(str(part) for part in parts), flush=True)

lock = threading.Condition()
state = {"connack": None, "suback": None, "messages": 0, "disconnected": False, "pings": 0, "pongs": 0}

def wait_for(step, predicate):
    deadline = time.monotonic() + args.timeout
    with lock:
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                say("TIMEOUT", step)
                sys.stdout.flush()
                os._exit(3)
            lock.wait(left)

def on_connect(client, userdata, flags, reason_code, properties):
    say("CONNACK", int(flags.session_present), reason_code.value)
    with lock:
        state["connack"] = reason_code.value
        lock.notify_all()

def on_subscribe(client, userdata, mid, reason_codes, properties):
    say("SUBACK", ",".join(str(code.value) for code in reason_codes))
    with lock:
        state["suback"] = reason_codes
        lock.notify_all()

def on_message(client, userdata, message):
    say("MESSAGE", message.topic, message.qos, int(message.retain), int(message.dup),
        message.payload.decode("utf-8", "replace"))
    with lock:
        state["messages"] += 1
        lock.notify_all()

def on_disconnect(client, userdata, flags, reason_code, properties):
    say("DISCONNECTED", reason_code.value)
    with lock:
        state["disconnected"] = True
        lock.notify_all()

def on_log(client, userdata, level, text):
    with lock:
        if text.startswith("Sending PINGREQ"):
            state["pings"] += 1
        elif text.startswith("Received PINGRESP"):
            state["pongs"] += 1

protocol = mqtt.MQTTv31 if args.protocol == "31" else mqtt.MQTTv311
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=args.id,
                     clean_session=not args.persistent, protocol=protocol, reconnect_on_failure=False)
client.max_inflight_messages_set(20)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.on_disconnect = on_disconnect
client.on_log = on_log
if args.will:
    topic, payload, qos, retain = args.will
    client.will_set(topic, payload, int(qos), retain == "1")

client.connect("127.0.0.1", args.port, keepalive=args.keepalive)
client.loop_start()
wait_for("connack", lambda: state["connack"] is not None)
if state["connack"] != 0:
    client.loop_stop()
    sys.exit(2)

if args.subscribe:
    client.subscribe([(f.rsplit(":", 1)[0], int(f.rsplit(":", 1)[1])) for f in args.subscribe])
    wait_for("suback", lambda: state["suback"] is not None)

if args.idle:
    time.sleep(args.idle)
    with lock:
        say("IDLE", int(client.is_connected() and not state["disconnected"]), state["pings"], state["pongs"])

if args.publish:
    infos = [client.publish(args.publish, f"{args.payload}{i}" if args.count > 1 else args.payload,
                            qos=args.qos, retain=args.retain) for i in range(args.count)]
    deadline = time.monotonic() + args.timeout
    for info in infos:
        info.wait_for_publish(max(0.0, deadline - time.monotonic()))
        if not info.is_published():
            say("TIMEOUT", "publish")
            os._exit(3)
    say("PUBLISHED", len(infos))

if args.expect:
    wait_for("messages", lambda: state["messages"] >= args.expect)

if args.until_disconnected:
    wait_for("disconnect", lambda: state["disconnected"])

if args.end == "vanish":
    # Leaves without DISCONNECT: the kernel closes the socket as the process dies.
    say("VANISHING")
    os._exit(0)
if args.end == "linger":
    say("LINGERING")
    time.sleep(args.timeout)
    os._exit(3)
if not state["disconnected"]:
    client.disconnect()
    wait_for("disconnect", lambda: state["disconnected"])
client.loop_stop()
say("DONE")
"""#
}
