#!/bin/sh
# host-setup.sh — prepare a chasquid mail host for mailops without handing it root.
#
# Run once as root on the mail host, from a copy of mailops's deploy/ directory:
#
#   sh host-setup.sh --key "ssh-ed25519 AAAA… mailops@bot"          (or --key-file bot.pub)
#
# It creates a system user (default `mailops`) whose SSH key can do one thing: call mailops-host, the program that
# performs mailops's verbs (read, write and back up files under CHASQUID_DIR, restart chasquid, keep CHASQUID_DIR's
# git history, …) and refuses everything else. The key is forced to a command, with no shell, no pty and no
# forwarding; a sudo rule lets the user run exactly mailops-host as root. Then point mailops at it:
# MAIL_HOST=ssh://mailops@<host>:<port>. Running it again changes nothing unless something differs; --dry-run shows
# what it would do; --remove takes it all away again.
#
# Options:
#   --key "LINE" | --key-file FILE   the bot's public key (required, except with --remove)
#   --user NAME                      the user to create (default mailops)
#   --chasquid-dir DIR               chasquid's configuration directory (default /etc/chasquid)
#   --restart "COMMAND"              how to restart chasquid, split on spaces (default: systemctl restart chasquid)
#   --path PATH                      PATH for mailops-host (default: the usual system PATH)
#   --prefix DIR                     where to install mailops-host (default /usr/local/lib/mailops)
#   --dry-run                        print what would change, change nothing
#   --remove                         remove the user's key, sudo rule and settings (and the user)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
user=mailops
key=
chasquid_dir=/etc/chasquid
restart="systemctl restart chasquid"
search_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
prefix=/usr/local/lib/mailops
dry_run=false
remove=false

usage() {
	sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

while [ "$#" -gt 0 ]; do
	case $1 in
	--key) key=${2?--key needs a value}; shift 2 ;;
	--key-file) key=$(cat -- "${2?--key-file needs a value}"); shift 2 ;;
	--user) user=${2?}; shift 2 ;;
	--chasquid-dir) chasquid_dir=${2?}; shift 2 ;;
	--restart) restart=${2?}; shift 2 ;;
	--path) search_path=${2?}; shift 2 ;;
	--prefix) prefix=${2?}; shift 2 ;;
	--dry-run) dry_run=true; shift ;;
	--remove) remove=true; shift ;;
	-h | --help) usage ;;
	*) echo "host-setup: unknown option $1" >&2; usage ;;
	esac
done

die() {
	echo "host-setup: $*" >&2
	exit 1
}

case $user in '' | *[!a-z0-9_-]* | [!a-z_]*) die "--user must be a plain user name" ;; esac
case $chasquid_dir in /*) ;; *) die "--chasquid-dir must be an absolute path" ;; esac
case $prefix in /*) ;; *) die "--prefix must be an absolute path" ;; esac
case $restart in *[!A-Za-z0-9@%+=:,./_\ -]*) die "--restart may hold only a command and plain arguments (no shell syntax)" ;; esac
[ "$(id -u)" = 0 ] || die "run me as root"

config_dir=/etc/mailops-host
config=$config_dir/$user.conf
sudoers=/etc/sudoers.d/mailops-host-$(printf '%s' "$user" | tr -c 'a-z0-9_\n' '_')
changes=0

# step DESCRIPTION COMMAND...: runs COMMAND (or, with --dry-run, says it would) and counts the change.
step() {
	description=$1
	shift
	changes=$((changes + 1))
	if $dry_run; then
		echo "would: $description"
	else
		echo "$description"
		"$@"
	fi
}

# install_file SOURCE TARGET MODE: copies when the content or mode differ.
install_file() {
	if ! cmp -s -- "$1" "$2" 2>/dev/null || [ "$(stat -c %a -- "$2" 2>/dev/null)" != "$3" ] || [ "$(stat -c %U:%G -- "$2" 2>/dev/null)" != root:root ]; then
		step "install $2" install -o root -g root -m "$3" -- "$1" "$2"
	fi
}

# write_file TARGET MODE CONTENT: writes when the content differs (through a temporary file, then renamed).
write_file() {
	if [ "$(cat -- "$1" 2>/dev/null || true)" != "$3" ] || [ "$(stat -c %a -- "$1" 2>/dev/null)" != "$2" ]; then
		step "write $1" sh -c 'umask 077; printf "%s\n" "$3" > "$1.tmp" && chmod "$2" "$1.tmp" && chown root:root "$1.tmp" && mv -f "$1.tmp" "$1"' write "$1" "$2" "$3"
	fi
}

home=$(getent passwd "$user" | cut -d: -f6 || true)

if $remove; then
	[ -e "$sudoers" ] && step "remove $sudoers" rm -f -- "$sudoers"
	[ -e "$config" ] && step "remove $config" rm -f -- "$config"
	if [ -n "$home" ]; then
		step "remove the user $user" userdel --remove "$user"
	fi
	[ "$changes" -gt 0 ] || echo "nothing to remove"
	exit 0
fi

[ -n "$key" ] || die "give the bot's public key with --key or --key-file"
case $key in
	ssh-ed25519\ * | ssh-rsa\ * | ecdsa-sha2-nistp256\ * | ecdsa-sha2-nistp384\ * | ecdsa-sha2-nistp521\ *) ;;
	*) die "--key must be one public key line (ssh-ed25519 AAAA… comment)" ;;
esac
newline='
'
case $key in *"$newline"*) die "--key must be a single line" ;; esac
key=$(printf '%s' "$key" | cut -d' ' -f1,2)
command -v sudo >/dev/null || die "sudo is not installed: apt-get install sudo, then run me again"
[ -d "$chasquid_dir" ] || die "$chasquid_dir does not exist: is chasquid installed, or is --chasquid-dir wrong?"

# 1. The user: a system account with a home for its SSH key. Its password is "*": none can match, yet the account
#    is not "locked" ("!"), which sshd would refuse even for a key.
if [ -z "$home" ]; then
	step "create the system user $user" useradd --system --user-group --create-home --home-dir "/var/lib/$user" --shell /bin/sh "$user"
	home=/var/lib/$user
fi
if [ "$(getent shadow "$user" | cut -d: -f2)" != "*" ]; then
	step "set no usable password for $user" usermod -p '*' "$user"
fi

# 2. mailops-host and the forced command, owned by root.
[ -d "$prefix" ] || step "create $prefix" install -d -o root -g root -m 0755 -- "$prefix"
install_file "$here/mailops-host" "$prefix/mailops-host" 755
install_file "$here/mailops-forced-command" "$prefix/mailops-forced-command" 755

# 3. The settings mailops-host enforces for this user.
[ -d "$config_dir" ] || step "create $config_dir" install -d -o root -g root -m 0755 -- "$config_dir"
# chasquid's data directory, read here once by root: mailops-host must never take it from chasquid.conf, which the
# restricted key could rewrite.
data_dir=$(sed -n 's/^[[:space:]]*data_dir:[[:space:]]*"\(.*\)"[[:space:]]*$/\1/p' "$chasquid_dir/chasquid.conf" 2>/dev/null | tail -n 1)
data_dir=${data_dir:-/var/lib/chasquid}
write_file "$config" 644 "$(printf 'CHASQUID_DIR=%s\nCHASQUID_RESTART=%s\nDATA_DIR=%s\nPATH=%s' "$chasquid_dir" "$restart" "$data_dir" "$search_path")"

# 4. sudo: exactly mailops-host, as root, without a password.
rule="$user ALL=(root) NOPASSWD: $prefix/mailops-host --encoded *"
if [ "$(cat -- "$sudoers" 2>/dev/null || true)" != "$rule" ]; then
	if ! $dry_run; then
		printf '%s\n' "$rule" > "$sudoers.tmp"
		chmod 0440 "$sudoers.tmp"
		visudo -cqf "$sudoers.tmp" || { rm -f "$sudoers.tmp"; die "the sudo rule did not validate"; }
		rm -f "$sudoers.tmp"
	fi
	step "write $sudoers" sh -c 'printf "%s\n" "$2" > "$1.tmp" && chmod 0440 "$1.tmp" && mv -f "$1.tmp" "$1"' write "$sudoers" "$rule"
fi

# 5. The key: forced to mailops-forced-command, no pty, no forwarding (restrict). Root owns the file.
ssh_dir=$home/.ssh
[ -d "$ssh_dir" ] || step "create $ssh_dir" install -d -o root -g root -m 0755 -- "$ssh_dir"
write_file "$ssh_dir/authorized_keys" 644 "restrict,command=\"$prefix/mailops-forced-command\" $key mailops"

if [ "$changes" -eq 0 ]; then
	echo "nothing to change: $user is set up"
fi

# What mailops needs in its configuration.
port=$(sshd -T 2>/dev/null | sed -n 's/^port //p' | head -n 1)
port=${port:-22}
name=$(hostname -f 2>/dev/null || hostname)
echo
echo "Host key fingerprints (compare them with what mailops shows on its first connection):"
for public in /etc/ssh/ssh_host_*_key.pub; do
	[ -e "$public" ] && ssh-keygen -lf "$public"
done
echo
echo "Settings for mailops:"
echo "  MAIL_HOST=ssh://$user@$name:$port"
echo "  CHASQUID_DIR=$chasquid_dir"
echo "  CHASQUID_RESTART=$restart"
echo "Line for SSH_KNOWN_HOSTS_FILE:"
for public in /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ecdsa_key.pub; do
	if [ -e "$public" ]; then
		if [ "$port" = 22 ]; then host_field=$name; else host_field="[$name]:$port"; fi
		echo "  $host_field $(cut -d' ' -f1,2 "$public")"
		break
	fi
done
