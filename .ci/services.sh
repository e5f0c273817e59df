#!/usr/bin/env bash
# Run a command beside real, throwaway keyring services.
#
#   bash .ci/services.sh COMMAND [ARGS...]
#   bash .ci/services.sh go test -race -count=1 ./internal/backend/oskeyring/...
#
# Meant for a fresh Debian 12 machine (CI), as root: it installs what is
# missing with apt-get, then, inside a private D-Bus session bus
# (dbus-run-session), starts gnome-keyring-daemon with a fresh, unlocked
# "login" collection, creates a passphrase-less GPG key and a password store
# initialised for it, exports
#
#   XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR
#   GNUPGHOME PASSWORD_STORE_DIR MCP_SECRETS_SERVICES_FPR
#   MCP_SECRETS_REQUIRE_KEYRINGS=secret-service,pass,keyctl
#
# runs COMMAND, stops everything it started, removes its temporary files and
# exits with COMMAND's status. HOME is left alone: Go's build and module
# caches live under it. Everything lives in one temporary directory whose
# path is in every process it starts (MCP_SECRETS_SERVICES_DIR); a final
# sweep stops any process still carrying it, so nothing is left behind.
set -euo pipefail

readonly packages=(gnome-keyring dbus libsecret-tools gnupg pass keyutils chromium)
# Commands this script and the tests need, and the packages that have them.
readonly -A needs=(
	[gnome-keyring-daemon]=gnome-keyring
	[dbus-run-session]=dbus
	[dbus-send]=dbus
	[secret-tool]=libsecret-tools
	[gpg]=gnupg
	[gpgconf]=gnupg
	[pass]=pass
	[keyctl]=keyutils
	[chromium]=chromium
)

log() { printf 'services.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 2
}

usage() {
	sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

install_missing() {
	local missing=()
	local cmd
	for cmd in "${!needs[@]}"; do
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
	done
	((${#missing[@]} == 0)) && return 0
	log "missing: ${missing[*]}; installing ${packages[*]}"
	[[ $(id -u) == 0 ]] || die "run as root to install packages, or install: ${packages[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# --no-install-recommends keeps dbus-x11 (dbus-launch) out: nothing here
	# needs it, and with it godbus would autolaunch stray buses.
	apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
	for cmd in "${!needs[@]}"; do
		command -v "$cmd" >/dev/null 2>&1 || die "still missing after install: $cmd"
	done
}

# leftovers prints the pids of live processes that carry our directory in
# their environment.
leftovers() {
	local marker="MCP_SECRETS_SERVICES_DIR=$1" pid
	for pid in $(grep -lzx -- "$marker" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do
		# Skip ourselves and the grep and cut that have finished by now.
		[[ $pid == "$$" || $pid == "$BASHPID" || ! -d /proc/$pid ]] && continue
		echo "$pid"
	done
}

# sweep waits a moment for our processes to finish (dbus-run-session does
# not wait for its bus to exit), then kills any left: TERM, then KILL.
sweep() {
	local dir=$1 try left=()
	for try in $(seq 20); do
		mapfile -t left < <(leftovers "$dir")
		((${#left[@]} == 0)) && return 0
		sleep 0.05
	done
	log "stopping leftover processes: $(ps -o pid=,comm= -p "${left[@]}" 2>/dev/null | tr -s ' \n' ' ')"
	for try in 1 2 3 4; do
		if ((try < 4)); then
			kill -TERM "${left[@]}" 2>/dev/null || true
		else
			kill -KILL "${left[@]}" 2>/dev/null || true
		fi
		sleep 0.5
		mapfile -t left < <(leftovers "$dir")
		((${#left[@]} == 0)) && return 0
	done
	log "could not stop: ${left[*]}"
}

# outer: install, make the temporary directory, run the inner part under a
# private session bus, sweep, clean up.
outer() {
	install_missing
	local dir status=0
	dir=$(mktemp -d "${TMPDIR:-/tmp}/mcp-secrets-services.XXXXXX")
	chmod 700 "$dir"
	export MCP_SECRETS_SERVICES_DIR=$dir
	trap 'sweep "$MCP_SECRETS_SERVICES_DIR"; rm -rf "$MCP_SECRETS_SERVICES_DIR"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# dbus-run-session stops its bus (and so anything the bus activated)
	# when the inner part exits, and exits with the inner part's status.
	# It runs in the background so that a signal to this shell is handled
	# at once (the EXIT trap's sweep then stops everything); stdin is passed
	# on explicitly, as a background job would get /dev/null.
	MCP_SECRETS_SERVICES_STAGE=inner dbus-run-session -- bash "$0" "$@" <&0 &
	wait "$!" || status=$?
	exit "$status"
}

# inner: runs on the private bus; starts the services, runs COMMAND.
inner() {
	local dir=$MCP_SECRETS_SERVICES_DIR
	unset MCP_SECRETS_SERVICES_STAGE
	export XDG_DATA_HOME=$dir/data XDG_CONFIG_HOME=$dir/config XDG_CACHE_HOME=$dir/cache
	export XDG_RUNTIME_DIR=$dir/run GNUPGHOME=$dir/gnupg PASSWORD_STORE_DIR=$dir/password-store
	mkdir -p -m 700 "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR" "$GNUPGHOME"
	unset GNOME_KEYRING_CONTROL SSH_AUTH_SOCK PASSWORD_STORE_KEY GPG_AGENT_INFO

	local gkd_pid=
	cleanup() {
		if [[ -n $gkd_pid ]]; then
			kill "$gkd_pid" 2>/dev/null || true
			wait "$gkd_pid" 2>/dev/null || true
		fi
		gpgconf --kill all 2>/dev/null || true
		gpgconf --remove-socketdir 2>/dev/null || true
	}
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	# Secret Service: a non-empty password makes gnome-keyring create the
	# "login" collection, unlocked. --foreground keeps it our child.
	local password
	password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	printf '%s' "$password" | gnome-keyring-daemon --foreground --unlock --components=secrets \
		>"$dir/gnome-keyring.env" 2>"$dir/gnome-keyring.log" &
	gkd_pid=$!
	local i
	for ((i = 0; i < 200; i++)); do
		if dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; then
			break
		fi
		kill -0 "$gkd_pid" 2>/dev/null || { cat "$dir/gnome-keyring.log" >&2; die "gnome-keyring-daemon exited"; }
		sleep 0.05
	done
	((i < 200)) || die "org.freedesktop.secrets has no owner after 10s"
	dbus-send --session --print-reply=literal --dest=org.freedesktop.secrets /org/freedesktop/secrets \
		org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Service string:Collections |
		grep -q /org/freedesktop/secrets/collection/login || die "gnome-keyring made no login collection"

	# pass: a throwaway key with no passphrase, and a store initialised for it.
	gpg --batch --quiet --passphrase '' --quick-gen-key "mcp-secrets CI <ci@mcp-secrets.invalid>" \
		future-default default never 2>/dev/null
	local fpr
	fpr=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
	[[ -n $fpr ]] || die "gpg made no key"
	pass init "$fpr" >"$dir/pass-init.log" 2>&1 || { cat "$dir/pass-init.log" >&2; die "pass init failed"; }
	export MCP_SECRETS_SERVICES_FPR=$fpr

	# keyctl needs nothing started; check the kernel allows it.
	keyctl show @u >/dev/null 2>&1 || log "warning: keyctl is refused here; keyctl tests will fail"

	export MCP_SECRETS_REQUIRE_KEYRINGS=secret-service,pass,keyctl
	log "services up in $dir (secret-service, pass, keyctl); running: $*"
	local status=0
	"$@" || status=$?
	exit "$status"
}

(($# > 0)) || usage
case ${MCP_SECRETS_SERVICES_STAGE:-} in
inner) inner "$@" ;;
*) outer "$@" ;;
esac
