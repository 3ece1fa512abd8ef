#!/usr/bin/python3
"""lt_peer.py - libtorrent (Debian's python3-libtorrent) as one peer of `make interop`.

    lt_peer.py seed TORRENT DIR [--port P] [--bind ADDR] [--timeout S]
    lt_peer.py get  TORRENT DIR [--port P] [--bind ADDR] [--timeout S] [--keep-seeding]
    lt_peer.py create PATH OUT --announce URL [--piece-length N] [--private]
    lt_peer.py info-hash TORRENT

seed prints "listening on PORT" once the session listens and "seeding" once its own hash check
found every piece; it then serves until SIGTERM (exit 0). get prints "listening on PORT", then
"done: N bytes in T s (X MB/s)" when libtorrent posts torrent_finished_alert, and exits 0 (with
--keep-seeding it goes on serving until SIGTERM). create writes a v1-only torrent and prints its
info hash; info-hash prints the v1 info hash of a torrent as libtorrent computes it.

Exit status: 0 success, 1 the peer failed (the reason is printed), 2 bad usage, 3 timed out.

Every peer runs kept local and plain: no default plugins (no PEX,
no ut_metadata), no DHT, local peer discovery, UPnP, NAT-PMP or uTP, plain (unencrypted)
connections, listening on one loopback address, and several connections per IP allowed because
every peer of the test lives on 127.0.0.1.

The binding crashes at start-up now and then (about one run in ten on some machines), before it
has done anything. So the command runs in a forked child, which imports libtorrent; when the child
dies of a signal before its first line of output, the parent says so and runs it ONE more time.
A crash after start-up is a failure like any other.
"""

import os
import signal
import sys
import time

T0 = time.monotonic()


def since():
    """Seconds since this process started, for log lines."""
    return "%.3f" % (time.monotonic() - T0)


def usage(msg):
    print("lt_peer: " + msg, file=sys.stderr)
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    """Splits argv into positionals and a dict of --options (flags map to True)."""
    flags = {"--keep-seeding", "--private", "-v", "--verbose"}
    pos, opts = [], {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in flags:
            opts[a.lstrip("-")] = True
        elif a.startswith("--"):
            if i + 1 >= len(argv):
                usage("missing value for " + a)
            opts[a[2:]] = argv[i + 1]
            i += 1
        else:
            pos.append(a)
        i += 1
    return pos, opts


def say(line):
    print(line, flush=True)


# ---- the libtorrent side (runs in the child) -------------------------------------------------


def make_session(lt, bind, port):
    """Returns a session that stays on loopback and speaks plain BitTorrent v1 over TCP."""
    settings = {
        "listen_interfaces": "%s:%d" % (bind, port),
        "enable_dht": False,
        "dht_bootstrap_nodes": "",
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_tcp": True,
        "enable_outgoing_tcp": True,
        "in_enc_policy": int(lt.enc_policy.disabled),
        "out_enc_policy": int(lt.enc_policy.disabled),
        "allow_multiple_connections_per_ip": True,
        # Outgoing connections leave from the same loopback address.
        "outgoing_interfaces": bind,
        "alert_mask": int(lt.alert.category_t.error_notification
                          | lt.alert.category_t.status_notification
                          | lt.alert.category_t.tracker_notification
                          | lt.alert.category_t.peer_notification
                          | lt.alert.category_t.storage_notification),
        "user_agent": "lt_peer/libtorrent-" + lt.__version__,
    }
    # flags 0: no default plugins, so no PEX (ut_pex) and no ut_metadata.
    return lt.session(settings, 0)


def wait_listening(lt, ses, deadline):
    """Waits for listen_succeeded_alert (or failure) and returns the TCP port."""
    while time.monotonic() < deadline:
        ses.wait_for_alert(200)
        for a in ses.pop_alerts():
            if isinstance(a, lt.listen_failed_alert):
                raise RuntimeError("cannot listen: " + a.message())
            if isinstance(a, lt.listen_succeeded_alert):
                return ses.listen_port()
    raise TimeoutError("the session never started listening")


def log_alert(lt, a, verbose):
    """Prints alerts worth seeing in a failed scenario's log tail."""
    interesting = (lt.tracker_error_alert, lt.tracker_warning_alert, lt.peer_error_alert,
                   lt.peer_disconnected_alert, lt.hash_failed_alert, lt.file_error_alert,
                   lt.torrent_error_alert, lt.tracker_reply_alert, lt.peer_connect_alert,
                   lt.state_changed_alert)
    if verbose or isinstance(a, interesting):
        print("lt %s: %s: %s" % (since(), type(a).__name__, a.message()), file=sys.stderr,
              flush=True)


stop_requested = False


def on_term(signum, frame):
    global stop_requested
    stop_requested = True


def run_peer(mode, pos, opts):
    import libtorrent as lt

    if len(pos) != 2:
        usage(mode + " needs TORRENT DIR")
    torrent, save_path = pos
    bind = opts.get("bind", "127.0.0.1")
    port = int(opts.get("port", "0"))
    timeout = float(opts.get("timeout", "120"))
    verbose = bool(opts.get("v") or opts.get("verbose"))
    keep = bool(opts.get("keep-seeding"))
    deadline = time.monotonic() + timeout

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    ses = make_session(lt, bind, port)
    say("listening on %d" % wait_listening(lt, ses, deadline))

    ti = lt.torrent_info(torrent)
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = save_path
    # Started now and not auto-managed: libtorrent's queue would start the paused torrent only
    # at its next one-second tick, a second of nothing at the start of every run.
    atp.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
    h = ses.add_torrent(atp)
    size = ti.total_size()
    start = time.monotonic()
    finished = False
    said_seeding = False
    next_status = start + 1.0
    while not stop_requested:
        if verbose and time.monotonic() >= next_status:
            next_status += 1.0
            st = h.status()
            print("lt %s: status %s %d/%d bytes, %d peers, down %.1f MB/s, up %.1f MB/s"
                  % (since(), st.state, st.total_wanted_done, size, st.num_peers,
                     st.download_payload_rate / 1e6, st.upload_payload_rate / 1e6),
                  file=sys.stderr, flush=True)
        if time.monotonic() > deadline:
            st = h.status()
            say("lt_peer: timed out after %.0f s in state %s, %d of %d bytes, %d peers"
                % (timeout, st.state, st.total_wanted_done, size, st.num_peers))
            return 3
        ses.wait_for_alert(200)
        for a in ses.pop_alerts():
            log_alert(lt, a, verbose)
            if isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                say("lt_peer: torrent error: " + a.message())
                return 1
            if isinstance(a, lt.torrent_checked_alert) and mode == "seed":
                if not h.status().is_seeding:
                    st = h.status()
                    say("lt_peer: the hash check found only %d of %d bytes in %s"
                        % (st.total_wanted_done, size, save_path))
                    return 1
                if not said_seeding:
                    said_seeding = True
                    say("seeding")
            if isinstance(a, lt.torrent_finished_alert) and mode == "get" and not finished:
                finished = True
                secs = max(time.monotonic() - start, 1e-6)
                say("done: %d bytes in %.2f s (%.1f MB/s)" % (size, secs, size / secs / 1e6))
                if verbose:
                    print("lt %s: done" % since(), file=sys.stderr, flush=True)
                if not keep:
                    return 0
        # The checked alert can come and go before the torrent is ready to say it is seeding (a
        # seed whose check takes a few milliseconds has been seen to skip it), so the status
        # is asked too: whichever shows a finished check first says "seeding".
        if mode == "seed" and not said_seeding:
            st = h.status()
            if st.is_seeding and st.state != lt.torrent_status.checking_files:
                said_seeding = True
                say("seeding")
    # Stopped by SIGTERM: a seeder's normal end. Pause so the tracker hears "stopped".
    h.pause()
    return 0 if (mode == "seed" or finished) else 1


def run_peer_timed(mode, pos, opts):
    rc = run_peer(mode, pos, opts)
    if opts.get("v") or opts.get("verbose"):
        print("lt %s: session closing" % since(), file=sys.stderr, flush=True)
    return rc


def run_create(pos, opts):
    import libtorrent as lt

    if len(pos) != 2 or "announce" not in opts:
        usage("create needs PATH OUT --announce URL")
    path, out = pos
    path = os.path.abspath(path)
    fs = lt.file_storage()
    lt.add_files(fs, path)
    piece = int(opts.get("piece-length", "0"))
    # v1_only: libtorrent 2.0 makes hybrid v1+v2 torrents by default, which aria2 1.36 hashes
    # differently; the toolkit speaks v1.
    t = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)
    t.add_tracker(opts["announce"])
    t.set_creator("lt_peer/libtorrent-" + lt.__version__)
    if opts.get("private"):
        t.set_priv(True)
    lt.set_piece_hashes(t, os.path.dirname(path))
    data = lt.bencode(t.generate())
    with open(out, "wb") as f:
        f.write(data)
    ti = lt.torrent_info(out)
    say("info hash: %s" % ti.info_hashes().v1)
    return 0


def run_info_hash(pos):
    import libtorrent as lt

    if len(pos) != 1:
        usage("info-hash needs TORRENT")
    # info_hash() would give a truncated v2 hash for a hybrid torrent; v1 is what we compare.
    ti = lt.torrent_info(pos[0])
    say("info hash: %s" % ti.info_hashes().v1)
    return 0


def child_main(argv):
    if not argv:
        usage("no command")
    mode, rest = argv[0], argv[1:]
    pos, opts = parse_args(rest)
    try:
        if mode in ("seed", "get"):
            return run_peer_timed(mode, pos, opts)
        if mode == "create":
            return run_create(pos, opts)
        if mode == "info-hash":
            return run_info_hash(pos)
    except (RuntimeError, TimeoutError, OSError) as e:
        say("lt_peer: %s failed: %s" % (mode, e))
        return 1
    usage("unknown command " + mode)


# ---- the parent: run the child, retry once if the binding crashed at start-up -----------------


child = 0
stopping = False


def forward(signum, frame):
    global stopping
    stopping = True
    if child > 0:
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass


def run_child(argv, w):
    """The forked child: stdout goes to the pipe w; never returns."""
    rc = 1
    try:
        os.dup2(w, 1)
        os.close(w)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        rc = child_main(argv)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    except BaseException:
        import traceback
        traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


def parent_main(argv):
    """Runs the command in a forked child (no second interpreter start-up) and passes its output
    on; a child killed by a signal before its first line of output is started once more."""
    global child
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for attempt in (1, 2):
        r, w = os.pipe()
        sys.stdout.flush()
        child = os.fork()
        if child == 0:
            os.close(r)
            run_child(argv, w)
        os.close(w)
        started = False
        with os.fdopen(r, "rb") as out:
            for line in out:
                started = True
                sys.stdout.buffer.write(line)
                sys.stdout.flush()
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        child = 0
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if not started and not stopping and attempt == 1:
                print("lt_peer: libtorrent crashed at start-up (signal %d); retrying once" % sig,
                      flush=True)
                continue
            print("lt_peer: libtorrent died of signal %d" % sig, flush=True)
            return 1
        return os.WEXITSTATUS(status)
    return 1


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) >= 2 else 2)
    sys.exit(parent_main(sys.argv[1:]))
