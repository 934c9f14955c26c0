"""Operating wubd: --version, the index page, a config file, signals (SIGHUP reloads,
SIGUSR1/SIGUSR2 do no harm), and /metrics as Prometheus's promtool checks it."""
import datetime
import os
import shutil
import signal
import socket
import subprocess
import tempfile

from fixtures import make_segments, write_segment
from harness import WUBD, Wubd, get, metric, run_tap, wait_for, wait_for_metric


def test_version_names_wubd_and_its_libraries():
    out = subprocess.run([WUBD, "--version"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("wubd ") and len(lines[0]) > 5, lines
    for library in ("libuv", "curl", "llhttp", "ffmpeg", "openssl", "simdjson", "spdlog"):
        assert any(line.split()[0] == library for line in lines[1:]), (library, lines)


def test_the_index_page_says_what_this_node_is():
    base = tempfile.mkdtemp(prefix="wubd-index-")
    write_segment(base, "desertbus", "source", datetime.datetime(2026, 11, 21, 4, tzinfo=datetime.timezone.utc),
                  b"x" * 100)
    with Wubd(base_dir=base) as w:
        page = get(w.url + "/")
        assert page.status == 200 and page.headers["content-type"].startswith("text/html"), page
        for text in ("wubd ", "restreamer", 'href="/playlist/desertbus.m3u8"', 'href="/metrics"', 'href="/files"',
                     'href="/ui/?stream=desertbus"', 'href="/ui/"'):
            assert text in page.text, (text, page.text)
        assert metric(w, "wubd_http_requests_total", endpoint="index", status="200") == 1


def test_metrics_pass_promtool_and_carry_the_process():
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is a test dependency: tools/install-deps installs it"
    base = tempfile.mkdtemp(prefix="wubd-prom-")
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    for i, data in enumerate(make_segments(2)):
        write_segment(base, "s", "v", start + datetime.timedelta(seconds=2 * i), data)
    with Wubd(base_dir=base) as w:
        get(w.url + "/playlist/s/v.m3u8")
        get(w.url + "/files/nothing")
        wait_for_metric(w, "wubd_loop_lag_seconds_count", 2, 5)
        text = get(w.url + "/metrics").text
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                               timeout=30)
        assert check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(), \
            (check.stdout, check.stderr)
        assert 10 * 2**20 < metric(w, "process_resident_memory_bytes") < 2**30
        assert 0 < metric(w, "process_open_fds") < metric(w, "process_max_fds")
        assert metric(w, "process_cpu_seconds_total") > 0
        assert abs(metric(w, "process_start_time_seconds") - datetime.datetime.now().timestamp()) < 120
        assert "wubd_build_info{version=" in text and 'libuv="' in text
        assert metric(w, "wubd_store_directory_scans_total") >= 1
        assert "# TYPE wubd_store_cache_hits_total counter" in text


def test_usr1_and_usr2_do_no_harm():
    with Wubd(base_dir=tempfile.mkdtemp(prefix="wubd-usr-")) as w:
        for sig in (signal.SIGUSR1, signal.SIGUSR2):
            w.proc.send_signal(sig)
        wait_for(lambda: w.log().count("ignored (SIGHUP reloads") == 2, 5, "both signals logged")
        assert w.proc.poll() is None and get(w.url + "/files").status == 200


def test_sighup_reloads_the_config_file_and_the_peers():
    peer_dir, base = tempfile.mkdtemp(prefix="wubd-hup-peer-"), tempfile.mkdtemp(prefix="wubd-hup-")
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    for i, data in enumerate(make_segments(2)):
        write_segment(peer_dir, "s", "v", start + datetime.timedelta(seconds=2 * i), data)
    peers_file = os.path.join(base, "..", os.path.basename(base) + ".nodes")
    open(peers_file, "w").close()
    config = os.path.join(tempfile.mkdtemp(prefix="wubd-hup-conf-"), "wubd.toml")

    def write_config(*lines):
        with open(config, "w") as f:
            f.write("\n".join(lines) + "\n")

    common = [f'peers-file = "{peers_file}"', "recent-cutoff = 0", "fill-wait = 1", "full-fill-wait = 2"]
    write_config(*common, 'logger-level = ["http=warning"]', "max-connections = 100")
    with Wubd(base_dir=peer_dir) as peer, Wubd("--config", config, base_dir=base) as w:
        get(w.url + "/files")
        assert "GET /files" not in w.log()  # the http logger is at warning
        write_config(*common, f'peer = ["{peer.url}"]', 'logger-level = ["http=debug"]', "max-connections = 50")
        w.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP: peer changed" in w.log(), 5, "the reload to be logged")
        log = w.log()
        assert "logger-level changed in --config " + config + ": applied now" in log, log
        assert "max-connections changed in --config " + config + ": takes effect at the next start" in log, log
        wait_for_metric(w, "wubd_segments_backfilled_total", 2, 15, remote=peer.url)
        get(w.url + "/files")
        wait_for(lambda: "GET /files" in w.log(), 5, "the http logger at debug")
        # A config that no longer parses is refused, and the process carries on.
        write_config(*common, "no-such-key = 1")
        w.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP: configuration not reloaded" in w.log(), 5, "the refusal")
        assert 'unknown key "no-such-key"' in w.log()
        assert get(w.url + "/files").status == 200
    os.unlink(peers_file)


def test_json_log_lines_carry_their_fields():
    from origin import FakeOrigin
    from test_downloader import FAST
    json_lines = os.environ.get("JSON_LINES", os.path.join(os.path.dirname(WUBD), "tests", "json-lines"))
    peer_dir = tempfile.mkdtemp(prefix="wubd-json-peer-")
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    for i, data in enumerate(make_segments(2)):
        write_segment(peer_dir, "s", "v", start + datetime.timedelta(seconds=2 * i), data)
    with FakeOrigin("--speed", "1") as origin, Wubd(base_dir=peer_dir) as peer:
        w = Wubd("--log-format", "json", "--download", f"live={origin.url}/master.m3u8", *FAST, "--peer", peer.url,
                 "--recent-cutoff", "0", base_dir=tempfile.mkdtemp(prefix="wubd-json-"))
        try:
            wait_for_metric(w, "wubd_segments_backfilled_total", 2, 15)
            wait_for_metric(w, "wubd_segments_downloaded_total", 1, 15)
            get(w.url + "/files/s")
        finally:
            assert w.stop() == 0
        log = w.log()
        os.unlink(w.log_file.name)
    parsed = subprocess.run([json_lines], input=log, capture_output=True, text=True, timeout=30)
    assert parsed.returncode == 0, parsed.stderr
    lines = [dict(f.split("=", 1) for f in line.split("\t")) for line in parsed.stdout.splitlines()]
    assert all({"time", "level", "logger", "msg"} <= set(line) for line in lines)
    access = [l for l in lines if l.get("path") == "/files/s"]
    assert access, [l for l in lines if l["logger"] == "http"][:3]
    a = access[0]
    assert a["method"] == "GET" and a["status"] == "200" and a["client"].startswith("127.0.0.1:"), a
    assert int(a["bytes"]) > 0 and float(a["duration_ms"]) >= 0, a
    worker = [l for l in lines if l["logger"] == "downloader" and l.get("stream") == "live" and "variant" in l]
    assert worker and worker[0]["url"].startswith(origin.url), worker[:2]
    backfilled = [l for l in lines if l.get("peer") == peer.url and "transfer" in l]
    assert backfilled and backfilled[0]["stream"] == "s" and backfilled[0]["status"] == "200", backfilled[:2]


def test_the_service_unit_verifies_and_readiness_is_true():
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (Debian package systemd) is a test dependency"
    unit_dir = tempfile.mkdtemp(prefix="wubd-unit-")
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "tools", "wubd.service")) as f:
        unit = f.read()
    assert "Type=notify" in unit and "ProtectSystem=strict" in unit and "ReadWritePaths=/srv/wubd" in unit
    with open(os.path.join(unit_dir, "wubd.service"), "w") as f:
        f.write(unit.replace("/usr/local/bin/wubd", os.path.abspath(WUBD)))
    check = subprocess.run([analyze, "verify", os.path.join(unit_dir, "wubd.service")], capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0 and not check.stderr.strip(), check.stderr
    # Type=notify: READY=1 once the port listens, STOPPING=1 on SIGTERM.
    notify_path = os.path.join(unit_dir, "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    listener.settimeout(10)
    os.environ["NOTIFY_SOCKET"] = notify_path
    try:
        w = Wubd(base_dir=tempfile.mkdtemp(prefix="wubd-notify-"))
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        ready = listener.recv(4096).decode()
        assert ready.startswith("READY=1") and get(w.url + "/files").status == 200, ready
        w.proc.send_signal(signal.SIGHUP)
        assert listener.recv(4096) == b"RELOADING=1" and listener.recv(4096) == b"READY=1"
    finally:
        assert w.stop() == 0
        os.unlink(w.log_file.name)
    assert listener.recv(4096) == b"STOPPING=1"


if __name__ == "__main__":
    run_tap([test_version_names_wubd_and_its_libraries,
             test_the_index_page_says_what_this_node_is,
             test_metrics_pass_promtool_and_carry_the_process,
             test_usr1_and_usr2_do_no_harm,
             test_sighup_reloads_the_config_file_and_the_peers,
             test_json_log_lines_carry_their_fields,
             test_the_service_unit_verifies_and_readiness_is_true])
