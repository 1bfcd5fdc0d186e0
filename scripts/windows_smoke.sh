#!/usr/bin/env bash
# Try the Windows binary for real: run dist/act-sync.exe under Wine against the simulator.
#   usage: scripts/windows_smoke.sh [PATH/TO/act-sync.exe]
# Needs dist/act-sync (Linux, runs the simulator) and dist/act-sync.exe: `npm run build` first.
# Wine comes from the program named by ACT_SYNC_WINE_RUN, else ../shared/wine/run-exe.sh beside the
# clone (a helper of the development machine, not in the repository: it installs wine64 + mingw with
# apt on first use, as root, and builds a bcryptprimitives.dll stand-in); CONTRIBUTING.md says how
# to run it without that helper.
#
# What it checks, the Windows way: a Notepad-saved configuration.json (UTF-8 BOM, CRLF) in a folder
# with a space and non-ASCII letters, given as a `Z:\...` path; a non-ASCII Act! user and password
# (password only from ACT_PASSWORD); relative, `C:\...` and `Z:/...` paths in the file and in flags;
# `--version`, `check` (also over HTTPS with a self-signed CA in `ca_file`), `--once` (row counts
# per table equal a Linux reference run, ten cursors in the state file), Ctrl+C during `--once`,
# the state file's lock (a second `--once` exits 3 while one runs; after killing that one with
# SIGKILL, the next run proceeds), service mode answering /health to Linux curl, then stopping
# cleanly on Ctrl+C, and `demo`; dist/SHA256SUMS (`sha256sum -c`), `check --help`, a wrong password
# (exit 4 from `--once` and `check`, a SEVERE line in log_file, never the password), the config
# found next to the exe when started from another folder, and `act-sync.exe stop` ending a running
# service (exit 0 from both), and `--once` against a closed port ending in seconds with the refusal
# named (the connect timeout). The steps added last are bounded with `timeout`.
# Exits 0 when every step passed; prints the failing step and the programs' output otherwise.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$repo/node_modules/.bin:$PATH"
run_exe="${ACT_SYNC_WINE_RUN:-$(cd "$repo/.." && pwd)/shared/wine/run-exe.sh}"
exe="${1:-$repo/dist/act-sync.exe}"
linux="$repo/dist/act-sync"
if [ ! -e "$run_exe" ]; then
  echo "windows smoke: missing $run_exe: set ACT_SYNC_WINE_RUN to a program that runs" \
    "'PROGRAM.exe ARGS...' under Wine (CONTRIBUTING.md, The Windows smoke test)" >&2
  exit 2
fi
for f in "$exe" "$linux"; do
  [ -e "$f" ] || { echo "windows smoke: missing $f (run 'npm run build' first)" >&2; exit 2; }
done
exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"
# Same prefix as run-exe.sh, so that C:\ is a folder we can look into.
export WINEPREFIX="${WINEPREFIX:-${TMPDIR:-/tmp}/act-sync-wine}" WINEDEBUG="${WINEDEBUG:--all}"
# Wine decodes argv and the environment with the Unix locale: non-ASCII needs a UTF-8 one.
case "${LC_ALL:-${LANG:-}}" in *[Uu][Tt][Ff]*8*) ;; *) export LC_ALL=C.UTF-8 ;; esac

start=$(date +%s)
tmp="$(mktemp -d "${TMPDIR:-/tmp}/act-sync-smoke.XXXXXX")"
work="$tmp/Jürgen Müller"           # like C:\Users\Jürgen Müller\...
c_dir="act-sync-smoke-$$"           # C:\act-sync-smoke-PID
c_unix="$WINEPREFIX/drive_c/$c_dir"
user="Jürgen Müller"
password="pässwörd €1"
sim_pid="" stop_pid="" svc_pid="" slow_pid="" int_pid="" tls_pid="" lock_pid="" hold_pid=""
cleanup() {
  for pid in $stop_pid $svc_pid $int_pid $lock_pid $hold_pid $slow_pid $tls_pid $sim_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$tmp" "$c_unix"
}
trap cleanup EXIT
mkdir -p "$work"

step() { printf '\n== %s\n' "$*"; }
fail() {
  echo "windows smoke: FAILED: $*" >&2
  for f in "$tmp"/*.out "$tmp"/*.err; do
    [ -s "$f" ] && { echo "--- ${f#"$tmp"/}" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}
# A Unix path as Wine's Z: drive sees it, with backslashes: /tmp/x -> Z:\tmp\x
winpath() { local p="${1//\//\\}"; printf 'Z:%s' "$p"; }
# Run the Windows binary; stdout/stderr go to $tmp/NAME.out / .err; returns its exit code.
win() {
  local name="$1"; shift
  ACT_PASSWORD="$password" bash "$run_exe" "$exe" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
}
# Same, with the environment as it is (no ACT_PASSWORD added), ended after SECS seconds (exit 124).
win_env() {
  local name="$1" secs="$2"; shift 2
  timeout -k 5 "$secs" bash "$run_exe" "$exe" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
}
# Waits (bounded: SECS seconds) until PID has exited.
wait_exit() {
  local pid="$1" secs="$2" i
  for i in $(seq 1 $((secs * 10))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}
# Row count per table of a SQLite file, "table count" per line (0 for a table not created).
counts() {
  deno eval --quiet '
    import { DatabaseSync } from "node:sqlite";
    const db = new DatabaseSync(Deno.args[0], { readOnly: true });
    const has = (t) => db.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(t);
    for (const t of ["contacts","companies","opportunities","activities","activity_types","products",
      "history","groups","users","opportunity_products"]) {
      console.log(t, has(t) ? db.prepare(`SELECT count(*) AS n FROM "${t}"`).get().n : 0);
    }' "$1"
}
# Fails unless the state file has a cursor for every table given.
check_cursors() {
  deno eval --quiet '
    const state = JSON.parse(Deno.readTextFileSync(Deno.args[0]));
    const missing = Deno.args.slice(1).filter((t) => typeof state.table_cursors?.[t] !== "string");
    if (missing.length) { console.error("no cursor for " + missing.join(", ")); Deno.exit(1); }' "$@"
}
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}
# Waits (bounded) until FILE contains PATTERN or PID exits.
wait_for() {
  local file="$1" pattern="$2" pid="$3" i
  for i in $(seq 1 300); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { grep -q -- "$pattern" "$file" 2>/dev/null; return; }
    sleep 0.1
  done
  return 1
}

step "dist/SHA256SUMS: sha256sum -c next to the exe"
sums_dir="$(dirname "$exe")"
[ -s "$sums_dir/SHA256SUMS" ] || fail "no SHA256SUMS next to $exe ('npm run build' writes it)"
grep -q ' act-sync\.exe$' "$sums_dir/SHA256SUMS" || fail "SHA256SUMS has no act-sync.exe line"
(cd "$sums_dir" && sha256sum -c SHA256SUMS >"$tmp/sums.out" 2>&1) ||
  fail "sha256sum -c SHA256SUMS: $(cat "$tmp/sums.out")"
cat "$tmp/sums.out"

step "simulator (Linux binary) with user \"$user\""
"$linux" simulate --port 0 --records 300 --username "$user" --password "$password" \
  >"$tmp/sim.out" 2>"$tmp/sim.err" &
sim_pid=$!
wait_for "$tmp/sim.out" "listening on" "$sim_pid" || fail "the simulator did not start"
sim_port=$(grep -o '127\.0\.0\.1:[0-9]*' "$tmp/sim.out" | head -n1 | cut -d: -f2)
echo "simulator on port $sim_port"

step "--version"
win version --version || fail "--version exited with $?"
expected=$("$linux" --version)
[ "$(tr -d '\r' <"$tmp/version.out")" = "$expected" ] ||
  fail "--version printed \"$(cat "$tmp/version.out")\", the Linux binary \"$expected\""
cat "$tmp/version.out"

step "check --help prints the command's usage"
win_env checkhelp 60 check --help || fail "check --help exited with $?"
grep -q "^Usage: act-sync check" "$tmp/checkhelp.out" ||
  fail "check --help did not print its usage: $(head -n 3 "$tmp/checkhelp.out")"
grep -q "refused the login" "$tmp/checkhelp.out" || fail "check --help does not name exit code 4"
head -n 1 "$tmp/checkhelp.out"

step "configuration.json saved by Notepad (UTF-8 BOM, CRLF), Windows paths inside"
http_port=$(free_port) || fail "no free port"
# destination: relative with a backslash (resolved against the config folder); state_file: C:\;
# log_file: Z:/ with forward slashes. No password in the file: ACT_PASSWORD has it.
{
  printf '\xef\xbb\xbf{\r\n'
  printf '  "protocol": "http",\r\n  "hostname": "127.0.0.1",\r\n  "port": "%s",\r\n' "$sim_port"
  printf '  "api_path": "/act.web.api",\r\n  "username": "%s",\r\n' "$user"
  printf '  "database_name": "ActDemo",\r\n'
  printf '  "destination": "sqlite:data\\\\act.db",\r\n'
  printf '  "state_file": "C:\\\\%s\\\\state.json",\r\n' "$c_dir"
  printf '  "log_file": "Z:%s/logs/act-sync.log",\r\n' "$work"
  printf '  "http_port": %s\r\n}\r\n' "$http_port"
} >"$work/configuration.json"
config="$(winpath "$work/configuration.json")"
echo "--config $config"

step "check"
win check check --config "$config" || fail "check exited with $?"
grep -qE "All [0-9]+ tables OK" "$tmp/check.out" || fail "check did not report all tables OK"
cat "$tmp/check.out"

step "wrong password: --once and check exit 4, a SEVERE line in log_file, never the password"
wrong="falsch-pässwort-9"
refused_log="$work/logs/refused.log"
for cmd in --once check; do
  rc=0
  ACT_PASSWORD="$wrong" ACT_LOG_FILE="$(winpath "$refused_log")" win_env "refused$cmd" 90 \
    $cmd --config "$config" || rc=$?
  [ "$rc" = 4 ] || fail "$cmd with a wrong password exited $rc, expected 4"
done
[ -s "$refused_log" ] || fail "no log file at $refused_log"
[ "$(grep -c "SEVERE.*Failed to authenticate.*fix 'username', 'password'" "$refused_log")" = 2 ] ||
  fail "log_file lacks a SEVERE line per run: $(cat "$refused_log")"
if grep -qF -- "$wrong" "$refused_log" "$tmp"/refused*.out "$tmp"/refused*.err; then
  fail "the wrong password appears in the output or the log"
fi
grep "SEVERE" "$refused_log" | head -n 1

step "closed port: --once fails in seconds (the connect timeout), naming the refusal"
closed_port=$(free_port) || fail "no free port"
closed_start=$(date +%s)
closed_rc=0
ACT_PASSWORD="$password" ACT_PORT="$closed_port" win_env closed 120 --once --config "$config" \
  --state "C:\\$c_dir\\closed\\state.json" --destination "sqlite:$(winpath "$work/closed.db")" ||
  closed_rc=$?
closed_secs=$(($(date +%s) - closed_start))
[ "$closed_rc" != 124 ] || fail "--once against a closed port still ran after 120 s"
[ "$closed_rc" = 1 ] || fail "--once against a closed port exited $closed_rc, expected 1"
grep -Eqi "refused|no connection within" "$tmp/closed.out" "$tmp/closed.err" ||
  fail "--once against a closed port did not name the refusal or the connect timeout"
grep -q "check 'hostname'" "$tmp/closed.out" "$tmp/closed.err" ||
  fail "--once against a closed port did not say what to check"
echo "closed port $closed_port: exit $closed_rc after ${closed_secs} s:" \
  "$(grep -Eoh "failed with no response after [^;]*" "$tmp/closed.err" | head -n 1 | cut -c1-160)"

step "configuration.json next to the exe, started from another folder without --config"
exe_copy="$tmp/Programme act-sync"
mkdir -p "$exe_copy" "$tmp/elsewhere"
cp "$exe" "$exe_copy/act-sync.exe"
[ ! -f "$(dirname "$exe")/bcryptprimitives.dll" ] ||
  cp "$(dirname "$exe")/bcryptprimitives.dll" "$exe_copy/"
cp "$work/configuration.json" "$exe_copy/configuration.json"
rc=0
(cd "$tmp/elsewhere" && ACT_PASSWORD="$password" timeout -k 5 90 bash "$run_exe" \
  "$exe_copy/act-sync.exe" check >"$tmp/nextto.out" 2>"$tmp/nextto.err") || rc=$?
[ "$rc" = 0 ] || fail "check from another folder with the config next to the exe exited $rc"
grep -qE "All [0-9]+ tables OK" "$tmp/nextto.out" || fail "check from another folder: not all OK"
rm -rf "$exe_copy"
echo "found $(winpath "$exe_copy")\\configuration.json from $(winpath "$tmp/elsewhere")"

step "--once"
win once --once --config "$config" || fail "--once exited with $?"
cat "$tmp/once.out"
db="$work/data/act.db" state="$c_unix/state.json"
[ -s "$db" ] || fail "no database at $db"
[ -s "$state" ] || fail "no state file at $state (C:\\$c_dir\\state.json)"
[ -s "$work/logs/act-sync.log" ] || fail "no log file at $work/logs/act-sync.log"
check_cursors "$state" contacts companies opportunities activities activity_types products \
  history groups users opportunity_products ||
  fail "the state file lacks cursors"

step "reference: the Linux binary syncs the same simulator"
mkdir -p "$tmp/ref"
{
  printf '{"protocol":"http","hostname":"127.0.0.1","port":%s,"api_path":"/act.web.api",' "$sim_port"
  printf '"username":"%s","database_name":"ActDemo","destination":"sqlite:act.db"}\n' "$user"
} >"$tmp/ref/configuration.json"
(cd "$tmp/ref" && ACT_PASSWORD="$password" "$linux" --once --log-level WARNING >"$tmp/ref.out" \
  2>"$tmp/ref.err") || fail "the Linux reference run exited with $?"
win_counts=$(counts "$db") || fail "cannot read $db"
ref_counts=$(counts "$tmp/ref/act.db") || fail "cannot read the reference database"
echo "$win_counts" | paste -sd' '
[ "$win_counts" = "$ref_counts" ] || fail "row counts differ from the Linux run: $(echo "$ref_counts" | paste -sd' ')"
contacts=$(echo "$win_counts" | awk '$1 == "contacts" { print $2 }')
[ "$contacts" -ge 300 ] || fail "only $contacts contacts (the simulator has 300 and more)"
if grep -qF -- "$password" "$tmp"/*.out "$tmp"/*.err "$work/logs/act-sync.log" "$state"; then
  fail "the password appears in the output, log or state file"
fi

step "flags with Windows paths: --state C:\\..., --destination sqlite:Z:\\..."
win flags --once --config "$config" --tables contacts,products \
  --state "C:\\$c_dir\\flags\\state.json" --destination "sqlite:$(winpath "$work/flags.db")" ||
  fail "--once with path flags exited with $?"
[ -s "$c_unix/flags/state.json" ] || fail "--state C:\\$c_dir\\flags\\state.json was not written"
check_cursors "$c_unix/flags/state.json" contacts products || fail "the --state file lacks cursors"
flag_counts=$(counts "$work/flags.db") || fail "cannot read $work/flags.db"
[ "$(echo "$flag_counts" | awk '$1 == "contacts" { print $2 }')" = "$contacts" ] ||
  fail "--destination database lacks contacts: $(echo "$flag_counts" | paste -sd' ')"

step "self-signed HTTPS: check with ca_file as a Z:\\ path to a CRLF .cer (tests/fixtures/tls)"
mkdir -p "$work/certs"
# As Windows exports it: "Base-64 encoded X.509 (.CER)", CRLF line ends.
sed 's/$/\r/' "$repo/tests/fixtures/tls/ca.pem" >"$work/certs/act-ca.cer"
cat >"$tmp/tls_sim.ts" <<EOF
import { readFileSync } from "node:fs";
import process from "node:process";
import { startSimulator } from "$repo/src/simulator/mod.ts";
const dir = "$repo/tests/fixtures/tls";
const running = await startSimulator({
  records: 20, username: process.env.SIM_USER, password: process.env.SIM_PASSWORD,
  cert: readFileSync(dir + "/server.pem", "utf8"), key: readFileSync(dir + "/server_key.pem", "utf8"),
});
console.log("listening on " + running.url);
process.on("SIGTERM", () => running.close().then(() => process.exit(0)));
EOF
SIM_USER="$user" SIM_PASSWORD="$password" bun "$tmp/tls_sim.ts" >"$tmp/tls.out" 2>"$tmp/tls.err" &
tls_pid=$!
wait_for "$tmp/tls.out" "listening on" "$tls_pid" || fail "the HTTPS simulator did not start"
tls_port=$(grep -o '127\.0\.0\.1:[0-9]*' "$tmp/tls.out" | head -n1 | cut -d: -f2)
ACT_PROTOCOL=https ACT_PORT="$tls_port" ACT_CA_FILE="$(winpath "$work/certs/act-ca.cer")" \
  win tls check --config "$config" || fail "check over HTTPS with ca_file exited with $?"
grep -qE "All [0-9]+ tables OK" "$tmp/tls.out" || fail "check over HTTPS with ca_file: not all OK"
tls_rc=0
ACT_PROTOCOL=https ACT_PORT="$tls_port" ACT_MAX_RETRIES=0 win notls check --config "$config" ||
  tls_rc=$?
kill -TERM "$tls_pid" 2>/dev/null || true
wait "$tls_pid" 2>/dev/null || true
tls_pid=""
[ "$tls_rc" = 1 ] || fail "check over HTTPS without ca_file exited with $tls_rc, expected 1"
echo "with ca_file: all tables OK; without: exit 1 ($(grep -o 'unable to verify[^"]*' \
  "$tmp/notls.err" | head -n1))"

step "Ctrl+C during --once (the simulator answers slowly)"
"$linux" simulate --port 0 --records 300 --latency 300 --username "$user" --password "$password" \
  >"$tmp/slow.out" 2>"$tmp/slow.err" &
slow_pid=$!
wait_for "$tmp/slow.out" "listening on" "$slow_pid" || fail "the slow simulator did not start"
slow_port=$(grep -o '127\.0\.0\.1:[0-9]*' "$tmp/slow.out" | head -n1 | cut -d: -f2)
ACT_PASSWORD="$password" ACT_PORT="$slow_port" bash "$run_exe" "$exe" --once --config "$config" \
  --state "C:\\$c_dir\\int\\state.json" --destination "sqlite:$(winpath "$work/int.db")" \
  >"$tmp/int.out" 2>"$tmp/int.err" &
int_pid=$!
wait_for "$tmp/int.err" "Table contacts synced" "$int_pid" || fail "--once did not sync contacts"
kill -INT "$int_pid" 2>/dev/null || true
int_rc=0
wait "$int_pid" || int_rc=$?
kill -TERM "$slow_pid" 2>/dev/null || true
wait "$slow_pid" 2>/dev/null || true
grep -q "Stop requested" "$tmp/int.err" || fail "Ctrl+C was not seen as a stop request (exit $int_rc)"
[ "$int_rc" -le 1 ] || fail "Ctrl+C during --once: exit code $int_rc, expected 0 or 1"
check_cursors "$c_unix/int/state.json" contacts || fail "the state after Ctrl+C lacks contacts"
echo "stopped with exit code $int_rc; contacts checkpointed"

step "lock: a second --once while one runs exits 3; once the first is killed, the next proceeds"
# The first run takes the lock, then waits on a simulator that answers after two minutes.
"$linux" simulate --port 0 --records 20 --latency 120000 --username "$user" --password "$password" \
  >"$tmp/hold.out" 2>"$tmp/hold.err" &
hold_pid=$!
wait_for "$tmp/hold.out" "listening on" "$hold_pid" || fail "the stalled simulator did not start"
hold_port=$(grep -o '127\.0\.0\.1:[0-9]*' "$tmp/hold.out" | head -n1 | cut -d: -f2)
lock_state="C:\\$c_dir\\lock\\state.json"
ACT_PASSWORD="$password" ACT_PORT="$hold_port" bash "$run_exe" "$exe" --once --config "$config" \
  --state "$lock_state" --destination "sqlite:$(winpath "$work/lock.db")" \
  >"$tmp/holder.out" 2>"$tmp/holder.err" &
lock_pid=$!
wait_for "$c_unix/lock/state.json.lock" '"pid"' "$lock_pid" ||
  fail "the first run did not take the lock"
locked_rc=0
win locked --once --config "$config" --state "$lock_state" \
  --destination "sqlite:$(winpath "$work/lock.db")" || locked_rc=$?
[ "$locked_rc" = 3 ] || fail "a second --once while the first holds the lock exited $locked_rc, expected 3"
grep -q "holds the lock" "$tmp/locked.err" || fail "the second run did not name the lock"
kill -0 "$lock_pid" 2>/dev/null || fail "the first run ended before it could be killed"
kill -KILL "$lock_pid"
wait "$lock_pid" 2>/dev/null || true
lock_pid=""
# Another live act-sync.exe, holding a lock on another state file only: its lock file's content
# (its pid, its image name), copied over the killed run's, must not block either.
ACT_PASSWORD="$password" ACT_PORT="$hold_port" bash "$run_exe" "$exe" --once --config "$config" \
  --state "C:\\$c_dir\\other\\state.json" --destination "sqlite:$(winpath "$work/other.db")" \
  >"$tmp/other.out" 2>"$tmp/other.err" &
lock_pid=$!
wait_for "$c_unix/other/state.json.lock" '"pid"' "$lock_pid" ||
  fail "the other run did not take its lock"
cp "$c_unix/other/state.json.lock" "$c_unix/lock/state.json.lock"
win unlocked --once --config "$config" --state "$lock_state" \
  --destination "sqlite:$(winpath "$work/lock.db")" ||
  fail "the run after the killed one exited with $? (its lock should have gone with it)"
[ ! -s "$c_unix/lock/state.json.lock" ] || fail "the lock file still names a holder after the run"
kill -KILL "$lock_pid"
wait "$lock_pid" 2>/dev/null || true
lock_pid=""
kill -TERM "$hold_pid" 2>/dev/null || true
wait "$hold_pid" 2>/dev/null || true
hold_pid=""
echo "second run: exit 3 (holder named: $(grep -o 'pid [0-9]*' "$tmp/locked.err" | head -n1));" \
  "after SIGKILL of the first, with a file naming another live act-sync.exe: exit 0"

step "service mode: /health from Linux curl on port $http_port"
ACT_PASSWORD="$password" bash "$run_exe" "$exe" --config "$config" >"$tmp/service.out" \
  2>"$tmp/service.err" &
svc_pid=$!
health=""
for _ in $(seq 1 300); do
  kill -0 "$svc_pid" 2>/dev/null || fail "service mode exited"
  health=$(curl -sS --max-time 2 "http://127.0.0.1:$http_port/health" 2>/dev/null) || health=""
  # Wait for the start-up run to finish ("running": false after a run).
  if echo "$health" | grep -q '"last_run": *"' && echo "$health" | grep -q '"running": *false'; then
    break
  fi
  sleep 0.1
done
echo "$health"
echo "$health" | grep -q '"status": *"ok"' || fail "/health did not answer status ok: $health"
curl -sS --max-time 2 -o "$tmp/state_http.out" -w '%{http_code}' "http://127.0.0.1:$http_port/state" |
  grep -q 200 || fail "/state did not answer 200"
if grep -qF -- "$password" "$tmp/state_http.out"; then fail "/state shows the password"; fi
kill -INT "$svc_pid"
svc_rc=0
wait "$svc_pid" || svc_rc=$?
svc_pid=""
[ "$svc_rc" = 0 ] || fail "service mode exited with $svc_rc after Ctrl+C, expected 0"
grep -q "Service stopped" "$tmp/service.err" || fail "service mode did not log its stop"
echo "service stopped cleanly on Ctrl+C"

step "act-sync.exe stop ends a running service (exit 0 from both)"
ACT_PASSWORD="$password" timeout -k 5 120 bash "$run_exe" "$exe" --config "$config" \
  >"$tmp/stopped.out" 2>"$tmp/stopped.err" &
stop_pid=$!
wait_for "$tmp/stopped.err" "Monitoring on http" "$stop_pid" ||
  fail "service mode did not start listening"
stop_rc=0
ACT_PASSWORD="$password" win_env stop 60 stop --config "$config" || stop_rc=$?
[ "$stop_rc" = 0 ] || fail "act-sync.exe stop exited $stop_rc, expected 0"
wait_exit "$stop_pid" 60 || fail "the service still runs 60 s after act-sync.exe stop"
svc_rc=0
wait "$stop_pid" || svc_rc=$?
stop_pid=""
[ "$svc_rc" = 0 ] || fail "the service exited $svc_rc after act-sync.exe stop, expected 0"
grep -q "Service stopped" "$tmp/stopped.err" || fail "the service did not log its stop"
echo "stop: $(tr -d '\r' <"$tmp/stop.out" | head -n 1); the service exited with 0"

step "demo in the working folder (writes demo\\act.db relative to it)"
(cd "$work" && win demo demo) || fail "demo exited with $?"
demo_counts=$(counts "$work/demo/act.db") || fail "demo wrote no readable $work/demo/act.db"
echo "$demo_counts" | awk '$2 > 0 { n++ } END { exit n == 10 ? 0 : 1 }' ||
  fail "demo left empty tables: $(echo "$demo_counts" | paste -sd' ')"
echo "$demo_counts" | paste -sd' '

kill -TERM "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
sim_pid=""
printf '\nwindows smoke: OK (%ss)\n' "$(($(date +%s) - start))"
