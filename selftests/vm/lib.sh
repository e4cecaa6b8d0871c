# Shared settings of the testbed scripts (sourced, not run).
# SPDX-License-Identifier: GPL-2.0

HVK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HVK_VM_DIR="$HVK_TOP/selftests/vm"

# Built kernels and other expensive artefacts live outside the work tree.
if [ -z "${HVK_CACHE:-}" ]; then
	if [ -w /var/cache ] || [ -w /var/cache/hvk ]; then
		HVK_CACHE=/var/cache/hvk
	else
		HVK_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/hvk
	fi
fi
mkdir -p "$HVK_CACHE"

KSRC_TARBALL=/usr/src/linux-source-6.12.tar.xz
KSRC_PKG=linux-source-6.12

ksrc_version() {
	dpkg-query -W -f='${Version}' "$KSRC_PKG" 2>/dev/null || echo unknown
}

# kernel_key FLAVOUR: identifies a built kernel by source version and config.
kernel_key() {
	local flavour=$1 frags="$HVK_VM_DIR/config/base.config"

	[ "$flavour" = debug ] && frags="$frags $HVK_VM_DIR/config/debug.config"
	# shellcheck disable=SC2086
	{ ksrc_version; cat $frags; } | sha256sum | cut -c1-16
}

kernel_dir() {
	echo "$HVK_CACHE/kernel-$1-$(kernel_key "$1")"
}

die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

# The unpacked kernel source (build-kernel unpacks it).
ksrc_dir() {
	echo "$HVK_CACHE/src-$(ksrc_version)"
}
