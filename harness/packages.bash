# harness/packages.bash: which packages this machine has and lacks, read from
# the one list, tools/packages. tools/setup, tools/doctor and tests/deps use it.
#
#   os_family                 debian, ubuntu, fedora or unknown, from $OS_RELEASE
#                             (default /etc/os-release): ID, then ID_LIKE
#   os_name                   the distribution's own name and version (PRETTY_NAME)
#   package_tools ROLE        the tools of a role, one a line: setup (make setup),
#                             needed or optional (the test suites)
#   package_of TOOL FAMILY    TOOL's packages in FAMILY, one a line; none: not packaged
#   tool_present TOOL         status 0 when TOOL works here: a command that runs,
#                             (bats: 1.2.1 or later, what the suites are written
#                             for), or (NAME.h) a header the C compiler finds
#   version_at_least V MIN    status 0 when version V >= MIN (dotted numbers)
#   package_known FAMILY PKG  status 0 when the package manager can install PKG
#                             (or cannot tell: dnf's lists need the network)
#   install_command FAMILY PKG...   prints the one line that installs them, for
#                             this user (sudo unless root); status 1 for unknown
#   packages_update FAMILY    refreshes the package lists (root only; apt-get update)
#   packages_install FAMILY PKG...  installs them (root only), quiet unless one
#                             fails; status 1 when any is still not installed

PACKAGES_LIST=${PACKAGES_LIST:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/packages}

os_family() {
	local words
	# os-release is shell assignments by its specification: read it in a subshell
	# shellcheck disable=SC1090 # which file is the caller's (OS_RELEASE)
	words=$( . "${OS_RELEASE:-/etc/os-release}" 2>/dev/null && echo "${ID:-} ${ID_LIKE:-}")
	# Ubuntu first: its ID_LIKE says debian, but its packages differ (perf)
	case " $words " in
	*" ubuntu "*) echo ubuntu ;;
	*" debian "*) echo debian ;;
	*" fedora "* | *" rhel "* | *" centos "*) echo fedora ;;
	*) echo unknown ;;
	esac
}

os_name() {
	# shellcheck disable=SC1090 # as in os_family
	( . "${OS_RELEASE:-/etc/os-release}" 2>/dev/null && echo "${PRETTY_NAME:-${ID:-unknown}}") ||
		echo "unknown (no ${OS_RELEASE:-/etc/os-release})"
}

package_tools() {
	awk -v role="$1" '/^#/ || NF < 6 { next }
		(role == "setup" && $2 == "yes") || $3 == role { print $1 }' "$PACKAGES_LIST"
}

package_of() {
	local kernel
	kernel=$(uname -r)
	awk -v tool="$1" -v family="$2" -v kernel="$kernel" '/^#/ || NF < 6 { next }
		$1 == tool {
			col = family == "debian" ? 4 : family == "ubuntu" ? 5 : family == "fedora" ? 6 : 0
			if (col == 0 || $col == "-") exit
			gsub(/\{kernel\}/, kernel, $col)
			gsub(/,/, "\n", $col)
			print $col
		}' "$PACKAGES_LIST"
}

tool_present() {
	case $1 in
	*.h) printf '#include <%s>\n' "$1" | "${CC:-cc}" -E -x c - >/dev/null 2>&1 ;;
	# Ubuntu's /usr/bin/perf is a wrapper that fails without the kernel's own perf
	perf) perf --version >/dev/null 2>&1 ;;
	bats) version_at_least "$(bats --version 2>/dev/null | awk '{ print $2 }')" 1.2.1 ;;
	*) command -v "$1" >/dev/null ;;
	esac
}

version_at_least() {
	[ -n "$1" ] && [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

package_known() {
	case $1 in
	debian | ubuntu) apt-cache show "$2" >/dev/null 2>&1 ;;
	*) return 0 ;;
	esac
}

install_command() {
	local family=$1 sudo="sudo "
	shift
	[ "$(id -u)" = 0 ] && sudo=""
	case $family in
	# update first: a fresh VM's package lists may be missing or stale
	debian | ubuntu) echo "${sudo}apt-get update && ${sudo}apt-get install -y $*" ;;
	fedora) echo "${sudo}dnf install -y $*" ;;
	*) return 1 ;;
	esac
}

packages_update() {
	local log
	case $1 in
	debian | ubuntu)
		log=$(mktemp)
		apt-get update -q >"$log" 2>&1 || grep -E '^(E|W):' "$log" >&2
		rm -f "$log"
		;;
	esac
	return 0 # dnf refreshes its lists itself when they are old
}

packages_install() {
	local family=$1 log pkg status=0
	shift
	log=$(mktemp)
	case $family in
	debian | ubuntu)
		# one unknown package fails the whole command: then one by one
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$log" 2>&1 ||
			for pkg in "$@"; do
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" \
					>"$log" 2>&1 || { echo "could not install $pkg:" >&2; grep -E '^E:' "$log" >&2; status=1; }
			done
		;;
	fedora)
		dnf install -y -q "$@" >"$log" 2>&1 ||
			for pkg in "$@"; do
				dnf install -y -q "$pkg" >"$log" 2>&1 ||
					{ echo "could not install $pkg:" >&2; tail -n 3 "$log" >&2; status=1; }
			done
		;;
	*) status=1 ;;
	esac
	rm -f "$log"
	return "$status"
}
