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
# It takes over nothing: it refuses uid 0 and every account that exists and that it did not create itself (it
# records the accounts it creates in /etc/mailops-host/<user>.account), and --remove deletes only such an account.
# Whatever root runs must be writable by root alone: the install prefix, /etc/mailops-host and each of their parent
# directories must be root's and not group- or world-writable (a sticky parent such as /tmp is fine: nobody but root
# can rename or remove root's entries in it), and none of them may be a symbolic link.
# Settings the helper must be able to trust (chasquid's data directory, its mail log) are read here, by root, from
# chasquid.conf (or given as options) and written to the root-owned /etc/mailops-host/<user>.conf, so that
# mailops-host need not read them from a file the key might be able to change.
#
# Options:
#   --key "LINE" | --key-file FILE   the bot's public key (required, except with --remove)
#   --user NAME                      the user to create (default mailops)
#   --chasquid-dir DIR               chasquid's configuration directory (default /etc/chasquid)
#   --restart "COMMAND"              how to restart chasquid, split on spaces (default: systemctl restart chasquid)
#   --data-dir DIR                   chasquid's data directory (default: data_dir in chasquid.conf, else /var/lib/chasquid)
#   --mail-log PATH                  chasquid's mail log (default: mail_log_path in chasquid.conf, else <syslog>)
#   --path PATH                      PATH for mailops-host (default: the usual system PATH)
#   --prefix DIR                     where to install mailops-host (default /usr/local/lib/mailops)
#   --dry-run                        print what would change, change nothing
#   --remove                         remove the sudo rule and settings, and the user if this script created it
set -eu
# Whatever is created here (directories too) is root's and writable by root alone, whatever umask root has.
umask 022

here=$(cd "$(dirname "$0")" && pwd)
user=mailops
key=
chasquid_dir=/etc/chasquid
restart="systemctl restart chasquid"
data_dir=
mail_log=
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
	--data-dir) data_dir=${2?--data-dir needs a value}; shift 2 ;;
	--mail-log) mail_log=${2?--mail-log needs a value}; shift 2 ;;
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

case $user in '' | *[!a-z0-9_-]* | [!a-z_]* | ?????????????????????????????????*) die "--user must be a plain user name" ;; esac
[ "$user" != root ] || die "--user root is refused: mailops's key must never be root's"
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

marker=$config_dir/$user.account

# safe_path NAME PATH: PATH is absolute and plain (no "." or ".." component, no shell or sudoers syntax).
safe_path() {
	case $2 in
		/*) ;;
		*) die "$1 must be an absolute path" ;;
	esac
	case $2 in *[!A-Za-z0-9._/+@-]*) die "$1 may hold only letters, digits and . _ / + @ -" ;; esac
	case $2/ in */./* | */../* | *//*) die "$1 must be a plain path (no . or .. components, no //)" ;; esac
}

# root_only DIRECTORY: DIRECTORY and each of its parents that exist are directories, not symbolic links, owned by
# root and writable by root alone. A parent may be group- or world-writable when it has the sticky bit (like /tmp):
# there nobody but root can rename or remove root's entries. What does not exist yet is created root's, 0755.
root_only() {
	root_only_dir=/
	root_only_rest=${1#/}
	while :; do
		if [ -L "$root_only_dir" ]; then
			die "$root_only_dir is a symbolic link: give the real path of $1 (whoever may change a link decides what root runs)"
		fi
		[ -e "$root_only_dir" ] || return 0
		[ -d "$root_only_dir" ] || die "$root_only_dir is not a directory"
		root_only_owner=$(stat -c %u -- "$root_only_dir")
		root_only_mode=$(stat -c %a -- "$root_only_dir")
		[ "$root_only_owner" = 0 ] || die "$root_only_dir is owned by uid $root_only_owner, not root: its owner could replace what root runs from $1. Use a directory owned by root."
		if [ $(( 0$root_only_mode & 022 )) != 0 ] && { [ -z "$root_only_rest" ] || [ $(( 0$root_only_mode & 01000 )) = 0 ]; }; then
			die "$root_only_dir is writable by others than root (mode $root_only_mode): they could replace what root runs from $1. Use a directory only root can write (chmod go-w $root_only_dir)."
		fi
		[ -n "$root_only_rest" ] || return 0
		root_only_dir=${root_only_dir%/}/${root_only_rest%%/*}
		case $root_only_rest in */*) root_only_rest=${root_only_rest#*/} ;; *) root_only_rest= ;; esac
	done
}

# conf_value KEY: the value of KEY in chasquid.conf (empty when unset); fails when the line cannot be read plainly
# (chasquid.conf is protobuf text format: `key: "value"`, `#` comments). chasquid would refuse a field set twice.
conf_value() {
	conf_file=$chasquid_dir/chasquid.conf
	[ -f "$conf_file" ] || return 0
	conf_lines=$(grep -E "^[[:space:]]*$1[[:space:]]*:" -- "$conf_file" || true)
	[ -n "$conf_lines" ] || return 0
	[ "$(printf '%s\n' "$conf_lines" | wc -l)" = 1 ] || die "$conf_file sets $1 more than once; fix it, or give --$2"
	conf_read=$(printf '%s\n' "$conf_lines" | sed -n -E "s/^[[:space:]]*$1[[:space:]]*:[[:space:]]*(\"([^\"\\\\]*)\"|'([^'\\\\]*)')[[:space:]]*(#.*)?\$/=\\2\\3/p")
	[ -n "$conf_read" ] || die "cannot read $1 in $conf_file ($conf_lines); give --$2"
	printf '%s' "${conf_read#=}"
}

# made_here: does the existing account $user carry this script's record (the root-owned marker naming its uid)?
made_here() {
	[ -f "$marker" ] && [ ! -L "$marker" ] && [ "$(stat -c %u -- "$marker")" = 0 ] &&
		[ "$(cat -- "$marker")" = "$(printf 'USER=%s\nUID=%s' "$user" "$uid")" ] &&
		[ "$home" = "/var/lib/$user" ] && [ "$comment" = "$made_comment" ]
}

# made_by_an_earlier_version: an account made by host-setup.sh before it kept markers looks exactly like this — a
# system uid, home /var/lib/<user>, shell /bin/sh, password "*" — and root wrote its settings file. Such an account
# is adopted (marked); nothing else is.
made_by_an_earlier_version() {
	[ -f "$config" ] && [ ! -L "$config" ] && [ "$(stat -c %u -- "$config")" = 0 ] || return 1
	uid_min=$(sed -n 's/^[[:space:]]*UID_MIN[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p' /etc/login.defs 2>/dev/null | tail -n 1)
	[ "$uid" -lt "${uid_min:-1000}" ] && [ "$home" = "/var/lib/$user" ] && [ "$shell" = /bin/sh ] &&
		[ "$(getent shadow "$user" | cut -d: -f2)" = "*" ]
}

entry=$(getent passwd "$user" || true)
uid=$(printf '%s' "$entry" | cut -d: -f3)
home=$(printf '%s' "$entry" | cut -d: -f6)
shell=$(printf '%s' "$entry" | cut -d: -f7)
comment=$(printf '%s' "$entry" | cut -d: -f5)
made_comment="mailops restricted user (made by host-setup.sh)"
ours=false
adopt=false
if [ -n "$entry" ]; then
	[ "$uid" != 0 ] || die "$user has uid 0: mailops's key must never be root's"
	if made_here; then
		ours=true
	elif ! $remove && made_by_an_earlier_version; then
		ours=true
		adopt=true
	fi
fi

if $remove; then
	[ -e "$sudoers" ] && step "remove $sudoers" rm -f -- "$sudoers"
	[ -e "$config" ] && step "remove $config" rm -f -- "$config"
	if $ours; then
		step "remove the user $user" userdel --remove "$user"
	elif [ -n "$entry" ]; then
		echo "host-setup: leaving the account $user alone: host-setup.sh did not create it (if an earlier version did, run host-setup.sh once, which adopts it, then --remove)" >&2
	fi
	[ -e "$marker" ] && step "remove $marker" rm -f -- "$marker"
	[ "$changes" -gt 0 ] || echo "nothing to remove"
	exit 0
fi

[ -z "$entry" ] || $ours || die "the account $user exists and host-setup.sh did not create it: it takes over no account. Choose another --user (default mailops)."
[ -n "$entry" ] || [ ! -e "/var/lib/$user" ] || die "/var/lib/$user exists but there is no account $user: remove it or choose another --user"

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
safe_path --chasquid-dir "$chasquid_dir"
safe_path --prefix "$prefix"
[ -d "$chasquid_dir" ] || die "$chasquid_dir does not exist: is chasquid installed, or is --chasquid-dir wrong?"
root_only "$prefix"
root_only "$config_dir"

# chasquid's data directory and mail log, as chasquid reads them (or as given).
data_dir_from="--data-dir"
if [ -z "$data_dir" ]; then
	data_dir=$(conf_value data_dir data-dir) || exit 1
	data_dir_from="data_dir in $chasquid_dir/chasquid.conf"
	[ -n "$data_dir" ] || { data_dir=/var/lib/chasquid; data_dir_from="chasquid's default"; }
fi
safe_path "chasquid's data directory ($data_dir_from)" "$data_dir"
[ ! -L "$data_dir" ] || die "chasquid's data directory $data_dir ($data_dir_from) is a symbolic link: give its real path with --data-dir"
[ -d "$data_dir" ] || die "chasquid's data directory $data_dir ($data_dir_from) does not exist: start chasquid once, or give --data-dir"
mail_log_from="--mail-log"
if [ -z "$mail_log" ]; then
	mail_log=$(conf_value mail_log_path mail-log) || exit 1
	mail_log_from="mail_log_path in $chasquid_dir/chasquid.conf"
	[ -n "$mail_log" ] || { mail_log='<syslog>'; mail_log_from="chasquid's default"; }
fi
case $mail_log in
	'<syslog>' | '<stdout>' | '<stderr>') ;;
	*) safe_path "chasquid's mail log ($mail_log_from)" "$mail_log" ;;
esac

# 1. The user: a system account with a home for its SSH key. Its password is "*": none can match, yet the account
#    is not "locked" ("!"), which sshd would refuse even for a key. The marker (root's, naming the uid) is what later
#    runs and --remove check before they touch the account.
[ -d "$config_dir" ] || step "create $config_dir" install -d -o root -g root -m 0755 -- "$config_dir"
if [ -z "$entry" ]; then
	step "create the system user $user" useradd --system --user-group --create-home --home-dir "/var/lib/$user" --shell /bin/sh \
		--comment "$made_comment" "$user"
	home=/var/lib/$user
	uid=$(getent passwd "$user" | cut -d: -f3 || true)
	$dry_run || write_file "$marker" 644 "$(printf 'USER=%s\nUID=%s' "$user" "$uid")"
elif $adopt; then
	step "adopt the account $user, made by an earlier host-setup.sh" usermod --comment "$made_comment" "$user"
	write_file "$marker" 644 "$(printf 'USER=%s\nUID=%s' "$user" "$uid")"
fi
if { [ -n "$entry" ] || ! $dry_run; } && [ "$(getent shadow "$user" | cut -d: -f2)" != "*" ]; then
	step "set no usable password for $user" usermod -p '*' "$user"
fi

# 2. mailops-host and the forced command, owned by root.
[ -d "$prefix" ] || step "create $prefix" install -d -o root -g root -m 0755 -- "$prefix"
install_file "$here/mailops-host" "$prefix/mailops-host" 755
install_file "$here/mailops-forced-command" "$prefix/mailops-forced-command" 755

# 3. The settings mailops-host enforces for this user: key=value lines, read (never sourced) by mailops-host.
previous_data_dir=$(sed -n 's/^DATA_DIR=//p' -- "$config" 2>/dev/null || true)
if [ -n "$previous_data_dir" ] && [ "$previous_data_dir" != "$data_dir" ]; then
	echo "chasquid's data directory changes from $previous_data_dir to $data_dir ($data_dir_from)"
fi
write_file "$config" 644 "$(printf 'CHASQUID_DIR=%s\nCHASQUID_RESTART=%s\nPATH=%s\nDATA_DIR=%s\nMAIL_LOG=%s' \
	"$chasquid_dir" "$restart" "$search_path" "$data_dir" "$mail_log")"

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
echo "chasquid's data directory: $data_dir ($data_dir_from); mail log: $mail_log ($mail_log_from)"
echo "Line for SSH_KNOWN_HOSTS_FILE:"
for public in /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ecdsa_key.pub; do
	if [ -e "$public" ]; then
		if [ "$port" = 22 ]; then host_field=$name; else host_field="[$name]:$port"; fi
		echo "  $host_field $(cut -d' ' -f1,2 "$public")"
		break
	fi
done
