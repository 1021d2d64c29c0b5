#!/usr/bin/env python3
"""Runs the same load against HomeRules' broker and Mosquitto, side by side.

Each broker runs pinned to CPU 0 and the load generator (`homerules bench
broker`) to CPU 1. Scenarios alternate A B A B over ROUNDS rounds and the
medians are compared; idle-connection memory is read from /proc. The rules
path (`homerules bench daemon`) has no Mosquitto counterpart and is shown with
its own targets. Prints a Markdown table for README.md: every scenario at
MQTT 3.1.1, then the fan-in, fan-out and latency scenarios again with every
connection at MQTT 5 (both brokers speak it).

    python3 Benchmarks/compare.py            # ROUNDS=3 by default
    MQTT_VERSIONS=3.1.1 python3 Benchmarks/compare.py   # 3.1.1 only
"""
import json, os, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "release", "homerules")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
IDLE = int(os.environ.get("IDLE_CONNECTIONS", "5000"))
VERSIONS = os.environ.get("MQTT_VERSIONS", "3.1.1,5").split(",")

SCENARIOS = [  # name, bench arguments, figure, target ratio, higher is better
    ("QoS 0 fan-in 8 → 1 (msg/s)", ["--scenario", "fan-in", "--qos", "0", "--messages", "1000000"], "rate", 1.2, True),
    # Zero loss: as fast as possible, then, if anything was lost, slower fixed rates until nothing is.
    ("QoS 1 fan-in 8 → 1, zero loss (msg/s)", ["--scenario", "fan-in", "--qos", "1", "--messages", "200000"], "zero-loss rate", 1.2, True),
    # Full speed, no window: 64 messages in flight per publisher. Delivered, not acknowledged, messages count;
    # a broker that acknowledges and then drops shows its loss below the table.
    ("QoS 1 fan-in 8 → 1, full speed, 64 in flight each (delivered msg/s)",
     ["--scenario", "fan-in", "--qos", "1", "--messages", "200000", "--window", "0", "--inflight", "64"], "rate", 1.2, True),
    ("QoS 0 fan-out 1 → 50 (deliveries/s)", ["--scenario", "fan-out", "--subscribers", "50", "--messages", "20000"], "rate", 1.2, True),
    ("p99 latency at 10,000 msg/s (µs)", ["--scenario", "latency", "--rate", "10000", "--seconds", "10"], "p99_us", 1.0, False),
]



def empty_home(workdir):
    """An empty directory for serve's devices and rules: the broker alone is measured."""
    path = os.path.join(workdir, "empty-home")
    os.makedirs(path, exist_ok=True)
    return path

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Broker:
    def __init__(self, kind, workdir):
        self.kind, self.port = kind, free_port()
        if kind == "HomeRules":
            command = [BIN, "serve", "--listen", f"127.0.0.1:{self.port}", "--devices", empty_home(workdir),
                       "--rules", empty_home(workdir), "--database", os.path.join(workdir, f"bench-{self.port}.sqlite"),
                       "--log-level", "error"]
        else:
            config = os.path.join(workdir, f"mosquitto-{self.port}.conf")
            with open(config, "w") as f:
                f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_type error\n")
            command = ["mosquitto", "-c", config]
        self.process = subprocess.Popen(["taskset", "-c", "0"] + command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def bench(broker, arguments, version):
    result = subprocess.run(["taskset", "-c", "1", BIN, "bench", "broker", "--json", "--broker", f"mqtt://127.0.0.1:{broker.port}",
                             "--mqtt-version", version] + arguments, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def zero_loss_rate(kind, workdir, arguments, version):
    """The highest rate without loss: full speed first, then fixed rates from
    200,000 msg/s down, 20 % lower each time. (A lossy run's own rate is no
    guide: its publishers stall once their messages stop arriving.)"""
    rate = None
    for _ in range(16):
        broker = Broker(kind, workdir)
        try:
            report = bench(broker, arguments + (["--rate", str(rate)] if rate else []), version)
        finally:
            broker.stop()
        if report["lost"] == 0 and report["duplicates"] == 0:
            report["zero-loss rate"] = report["rate"]
            return report
        print(f"  {kind}: lost {report['lost']} at {rate or 'full speed'}; slower", file=sys.stderr)
        rate = int(rate * 0.8) if rate else 200_000
    report["zero-loss rate"] = 0
    return report


def idle_bytes_per_connection(broker):
    time.sleep(0.5)
    before = rss_kib(broker.process.pid)
    load = subprocess.Popen(["taskset", "-c", "1", BIN, "bench", "broker", "--broker", f"mqtt://127.0.0.1:{broker.port}",
                             "--scenario", "idle", "--connections", str(IDLE), "--seconds", "5"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in load.stderr:
        if line.startswith("holding"):
            break
    time.sleep(1)
    during = rss_kib(broker.process.pid)
    load.wait(timeout=120)
    return (during - before) * 1024 / IDLE


def scenarios(version):
    """Every scenario at 3.1.1; at 5, the fan-in, fan-out and latency ones (not the zero-loss search)."""
    if version == "3.1.1":
        return SCENARIOS
    return [scenario for scenario in SCENARIOS if scenario[2] != "zero-loss rate"]


def main():
    if not os.path.exists(BIN):
        subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True)
    rows = [(version, scenario) for version in VERSIONS for scenario in scenarios(version)]
    figures = {(version, name): {"HomeRules": [], "Mosquitto": []} for version, (name, *_) in rows}
    losses = {(version, name): {"HomeRules": [], "Mosquitto": []} for version, (name, *_) in rows}
    memory = {"HomeRules": [], "Mosquitto": []}
    with tempfile.TemporaryDirectory() as workdir:
        for round_number in range(ROUNDS):
            for kind in ("HomeRules", "Mosquitto"):
                print(f"round {round_number + 1}/{ROUNDS}: {kind}", file=sys.stderr)
                for version, (name, arguments, figure, _, _) in rows:
                    key = (version, name)
                    if figure == "zero-loss rate":
                        figures[key][kind].append(zero_loss_rate(kind, workdir, arguments, version)[figure])
                        continue
                    # A fresh broker per scenario: nothing left over from the one before.
                    broker = Broker(kind, workdir)
                    try:
                        report = bench(broker, arguments, version)
                    finally:
                        broker.stop()
                    losses[key][kind].append((report["lost"], report["sent"]))
                    if report["lost"] or report["duplicates"]:
                        print(f"  {name} at {version}: lost {report['lost']}, duplicates {report['duplicates']}", file=sys.stderr)
                    figures[key][kind].append(report[figure])
                broker = Broker(kind, workdir)
                try:
                    memory[kind].append(idle_bytes_per_connection(broker))
                finally:
                    broker.stop()

    print("| scenario | MQTT | HomeRules | Mosquitto | ratio | target |")
    print("|---|---|---|---|---|---|")
    for version, (name, _, _, target, higher) in rows:
        ours, theirs = statistics.median(figures[(version, name)]["HomeRules"]), statistics.median(figures[(version, name)]["Mosquitto"])
        ratio = ours / theirs if theirs else float("nan")
        mark = "met" if (ratio >= target if higher else ratio <= target) else "not met"
        print(f"| {name} | {version} | {ours:,.0f} | {theirs:,.0f} | {ratio:.2f}× | {'≥' if higher else '≤'} {target}× ({mark}) |")
    ours, theirs = statistics.median(memory["HomeRules"]), statistics.median(memory["Mosquitto"])
    ratio = ours / theirs if theirs else float("nan")
    print(f"| RSS per idle connection, {IDLE:,} connections (bytes) | 3.1.1 | {ours:,.0f} | {theirs:,.0f} | {ratio:.2f}× | ≤ 3× ({'met' if ratio <= 3 else 'not met'}) |")

    print()
    for version, (name, *_) in rows:
        runs = losses[(version, name)]
        if any(lost for kind in runs for lost, _ in runs[kind]):
            described = "; ".join(
                f"{kind} lost " + ", ".join(f"{lost:,} of {sent:,}" for lost, sent in runs[kind]) for kind in runs)
            print(f"Lost in \"{name}\" at MQTT {version} (each round): {described}.")

    daemon = subprocess.run(["taskset", "-c", "0,1", BIN, "bench", "daemon", "--seconds", "10", "--events", "100000"],
                            capture_output=True, text=True, timeout=900).stdout.strip().splitlines()
    print()
    print("Rules path (`homerules bench daemon`, no Mosquitto counterpart):")
    print()
    for line in daemon:
        print(f"    {line}")
    print()
    print(f"Medians of {ROUNDS} rounds, alternating HomeRules and Mosquitto; brokers on CPU 0, load on CPU 1; "
          f"{os.cpu_count()} CPUs; mosquitto {subprocess.run(['mosquitto', '-h'], capture_output=True, text=True).stdout.splitlines()[0]}")


if __name__ == "__main__":
    main()
