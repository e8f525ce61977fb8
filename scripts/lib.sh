# Shared by the scripts in this folder: sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERIFY_DIR="$ROOT/var/verify"
mkdir -p "$VERIFY_DIR"

# Messages go to stderr: a script's stdout is its answer (a URL), read by the caller.
say() { printf '%s\n' "$*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}

# Root runs apt-get and the postgres account directly, anyone else through sudo.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    say "Installing $* (apt-get)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# A random secret kept in var/verify/<name> (mode 600), made on first use.
local_secret() {
    local file="$VERIFY_DIR/$1"
    if [ ! -s "$file" ]; then
        (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(16))' >"$file")
    fi
    cat "$file"
}
