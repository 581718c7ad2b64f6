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
# On a fresh Debian or Ubuntu host it first prepares chasquid (once; again changes nothing):
#
#   sh host-setup.sh --install-chasquid --hostname mail.example.com [--key-file bot.pub]
#
# installs chasquid when dpkg says it is not installed (and, for chasquid before 1.14, python3-dkim, which its
# post-data hook signs with), sets `hostname` in chasquid.conf while it is still the default (never an operator's),
# puts CHASQUID_DIR in git when it is not (private keys and users files excluded, as mailops-host keeps them), and
# reports whether an active firewall (ufw, nftables) lets in ports 25, 465 and 587 — it opens none.
#
# Options:
#   --key "LINE" | --key-file FILE   the bot's public key (required, except with --remove or --install-chasquid)
#   --install-chasquid               prepare chasquid first (see above); without a key, only that
#   --hostname NAME                  with --install-chasquid: the hostname for chasquid.conf
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
install_chasquid=false
mail_hostname=

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
	--install-chasquid) install_chasquid=true; shift ;;
	--hostname) mail_hostname=${2?--hostname needs a value}; shift 2 ;;
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
if [ -n "$mail_hostname" ]; then
	$install_chasquid || die "--hostname goes with --install-chasquid"
	# A host name as chasquid.conf holds it between double quotes: letters, digits, dots and hyphens.
	case $mail_hostname in .* | -* | *. | *..* | *[!A-Za-z0-9.-]*) die "--hostname must be a host name (mail.example.com)" ;; esac
fi
! { $install_chasquid && $remove; } || die "--install-chasquid and --remove do not go together"
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
	[ "$(printf '%s\n' "$conf_lines" | wc -l)" = 1 ] || die "$conf_file sets $1 more than once; fix it${2:+, or give --$2}"
	conf_read=$(printf '%s\n' "$conf_lines" | sed -n -E "s/^[[:space:]]*$1[[:space:]]*:[[:space:]]*(\"([^\"\\\\]*)\"|'([^'\\\\]*)')[[:space:]]*(#.*)?\$/=\\2\\3/p")
	conf_hint="fix it"
	[ -z "$2" ] || conf_hint="give --$2"
	[ -n "$conf_read" ] || die "cannot read $1 in $conf_file ($conf_lines); $conf_hint"
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

[ -n "$key" ] || $install_chasquid || die "give the bot's public key with --key or --key-file"
if [ -n "$key" ]; then
	case $key in
		ssh-ed25519\ * | ssh-rsa\ * | ecdsa-sha2-nistp256\ * | ecdsa-sha2-nistp384\ * | ecdsa-sha2-nistp521\ *) ;;
		*) die "--key must be one public key line (ssh-ed25519 AAAA… comment)" ;;
	esac
	newline='
'
	case $key in *"$newline"*) die "--key must be a single line" ;; esac
	key=$(printf '%s' "$key" | cut -d' ' -f1,2)
	command -v sudo >/dev/null || die "sudo is not installed: apt-get install sudo, then run me again"
fi
safe_path --chasquid-dir "$chasquid_dir"
safe_path --prefix "$prefix"
root_only "$prefix"

# --- chasquid itself (--install-chasquid) ----------------------------------------------------------------------

# installed PACKAGE: dpkg says PACKAGE is installed.
installed() {
	[ "$(dpkg-query -W -f='${Status}' -- "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# apt_install PACKAGE...: installs without a question (the packages' defaults; chasquid asks none).
apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q -y install -- "$@"
}

# set_hostname: `hostname: "NAME"` appended to chasquid.conf (through a temporary file with the same owner and mode,
# then renamed), so that chasquid says hello as the name its certificate and DNS are for.
set_hostname() {
	root_only "$chasquid_dir"
	conf_file=$chasquid_dir/chasquid.conf
	cp -p -- "$conf_file" "$conf_file.tmp" &&
		printf '\n# Set by mailops host-setup.sh: the name chasquid greets with, which its certificate and MX are for.\nhostname: "%s"\n' "$mail_hostname" >> "$conf_file.tmp" &&
		mv -f -- "$conf_file.tmp" "$conf_file"
}

hostname_set=false
prepare_chasquid() {
	if installed chasquid; then
		echo "chasquid is installed ($(dpkg-query -W -f='${Version}' chasquid))"
	else
		step "install chasquid (apt-get install chasquid)" apt_install chasquid
	fi
	# chasquid before 1.14 signs with DKIM through its post-data hook, which needs dkimpy; 1.14 signs itself.
	if installed chasquid; then
		chasquid_version=$(dpkg-query -W -f='${Version}' chasquid)
		if dpkg --compare-versions "$chasquid_version" lt 1.14~; then
			if installed python3-dkim; then
				echo "python3-dkim is installed (chasquid $chasquid_version signs DKIM through its post-data hook)"
			else
				step "install python3-dkim (chasquid $chasquid_version signs DKIM through its post-data hook)" apt_install python3-dkim
			fi
		fi
	elif $dry_run; then
		echo "would: install python3-dkim too if the chasquid installed is before 1.14"
	fi
	[ -d "$chasquid_dir" ] || $dry_run || die "$chasquid_dir does not exist after installing chasquid: is --chasquid-dir right?"

	current_hostname=
	if [ -f "$chasquid_dir/chasquid.conf" ]; then
		current_hostname=$(conf_value hostname '') || exit 1
	fi
	if [ -z "$mail_hostname" ]; then
		[ -n "$current_hostname" ] || echo "chasquid.conf sets no hostname (chasquid uses the system's): give --hostname mail.example.com to set it"
	elif [ -z "$current_hostname" ]; then
		[ -f "$chasquid_dir/chasquid.conf" ] || $dry_run || die "$chasquid_dir/chasquid.conf does not exist: is chasquid installed, or is --chasquid-dir wrong?"
		step "set hostname: \"$mail_hostname\" in $chasquid_dir/chasquid.conf" set_hostname
		hostname_set=true
	elif [ "$current_hostname" = "$mail_hostname" ]; then
		echo "chasquid.conf's hostname is $mail_hostname already"
	else
		echo "keeping chasquid.conf's hostname $current_hostname, which someone set (not --hostname $mail_hostname): change it by hand if it is wrong"
	fi
}

# git_root ARGS...: git in CHASQUID_DIR, as mailops-host runs it: nothing of the system's or the repository's that
# could run a program.
git_root() {
	env -i PATH="$search_path" HOME=/nonexistent LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 \
		git -C "$chasquid_dir" -c core.hooksPath=/dev/null -c core.fsmonitor=false -c safe.directory="$chasquid_dir" "$@"
}

# host_git SUBCOMMAND ARGS...: mailops-host's own git verb (as root, under its lease), so that what is kept out of
# history is decided in one place: mailops-host's list of private keys and password hashes.
host_git() {
	host_program=$prefix/mailops-host
	host_lease=$("$host_program" --chasquid-dir "$chasquid_dir" lease acquire 60 host-setup) || host_lease=
	host_lease=$(printf '%s\n' "$host_lease" | tail -n 1)
	[ -n "$host_lease" ] || die "could not take mailops-host's lock on $chasquid_dir (is mailops changing it?): run me again later"
	host_status=0
	"$host_program" --chasquid-dir "$chasquid_dir" --lease "$host_lease" git "$@" >/dev/null || host_status=$?
	"$host_program" --chasquid-dir "$chasquid_dir" lease release "$host_lease" >/dev/null || true
	[ "$host_status" = 0 ] || die "mailops-host git $1 failed (status $host_status)"
}

# into_git: CHASQUID_DIR in a repository of its own, with a first commit (an existing one is kept; chasquid.conf's
# new hostname is committed to it).
into_git() {
	command -v git >/dev/null || {
		step "install git (apt-get install git), to keep $chasquid_dir's history" apt_install git
		$dry_run && return 0
	}
	if [ -e "$chasquid_dir/.git" ] || [ -L "$chasquid_dir/.git" ]; then
		if git_root rev-parse -q --verify HEAD >/dev/null 2>&1; then
			echo "$chasquid_dir is in git already"
			if $hostname_set; then
				step "commit chasquid.conf's hostname in $chasquid_dir's git" host_git commit-files "mailops host-setup: hostname" "$chasquid_dir/chasquid.conf"
			fi
			return 0
		fi
	else
		step "git init $chasquid_dir" git_root -c init.defaultBranch=main init -q --template= .
	fi
	step "commit $chasquid_dir as \"mailops host-setup\" (private keys and users files kept out of git)" host_git commit-pending "mailops host-setup"
}

# firewall_report: whether an active firewall lets in SMTP (25), submissions (465) and submission (587). Read only:
# opening ports is the operator's decision.
firewall_report() {
	if command -v ufw >/dev/null && ufw status 2>/dev/null | grep -q '^Status: active'; then
		ufw_rules=$(ufw status verbose 2>/dev/null)
		if printf '%s\n' "$ufw_rules" | grep -q '^Default: allow (incoming)'; then
			echo "firewall: ufw is active and allows incoming connections by default: ports 25, 465 and 587 are open"
			return 0
		fi
		open='' closed=''
		for smtp_port in 25 465 587; do
			if printf '%s\n' "$ufw_rules" | grep -Eq "^$smtp_port(/tcp)?([[:space:]]+\(v6\))?[[:space:]]+ALLOW"; then
				open="$open $smtp_port"
			else
				closed="$closed $smtp_port"
			fi
		done
		if [ -z "$closed" ]; then
			echo "firewall: ufw is active and allows ports$open"
		else
			echo "firewall: ufw is active and does not allow port(s)$closed (open them with: ufw allow 25/tcp, and so on)"
		fi
	elif command -v nft >/dev/null && nft_rules=$(nft list ruleset 2>/dev/null) && [ -n "$nft_rules" ]; then
		if ! printf '%s\n' "$nft_rules" | grep -Eq 'hook input.*policy drop'; then
			echo "firewall: nftables has rules but no input chain that drops by default; check ports 25, 465 and 587 in: nft list ruleset"
		else
			open='' closed=''
			for smtp_port in 25 465 587; do
				if printf '%s\n' "$nft_rules" | grep -Eq "dport (\{[^}]*[ ,{]${smtp_port}[ ,}][^}]*\}|$smtp_port) .*accept"; then
					open="$open $smtp_port"
				else
					closed="$closed $smtp_port"
				fi
			done
			if [ -z "$closed" ]; then
				echo "firewall: nftables drops input by default and accepts ports$open"
			else
				echo "firewall: nftables drops input by default and has no accept rule host-setup.sh recognises for port(s)$closed: check nft list ruleset, and add one (tcp dport { 25, 465, 587 } accept)"
			fi
		fi
	else
		echo "firewall: no active firewall found (ufw inactive or absent, no nftables rules): ports 25, 465 and 587 are not blocked here (your provider may still block 25)"
	fi
}

if $install_chasquid; then
	# A refusal about the user's part comes before chasquid is touched.
	[ -z "$key" ] || root_only "$config_dir"
	prepare_chasquid
	if [ -n "$key" ] && $dry_run && [ ! -d "$chasquid_dir" ]; then
		echo "would then set up the user $user (what it would change shows once chasquid is installed)"
		firewall_report
		exit 0
	fi
fi
if [ -z "$key" ]; then
	# Preparing chasquid only: mailops-host (for its git verb), CHASQUID_DIR's git, the firewall report.
	[ -d "$prefix" ] || step "create $prefix" install -d -o root -g root -m 0755 -- "$prefix"
	install_file "$here/mailops-host" "$prefix/mailops-host" 755
	into_git
	firewall_report
	[ "$changes" -gt 0 ] || echo "nothing to change: chasquid is prepared"
	exit 0
fi
[ -d "$chasquid_dir" ] || die "$chasquid_dir does not exist: is chasquid installed, or is --chasquid-dir wrong?"
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
! $install_chasquid || into_git

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
! $install_chasquid || firewall_report

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
