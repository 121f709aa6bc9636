# Set up a machine for ccboard; sourced by scripts/test.sh and scripts/demo.sh.
#   source scripts/setup.sh run    Debian build packages + a venv with ccboard built in place
#   source scripts/setup.sh test   the same, plus the peers the tests use (libspandsp, espeak-ng,
#                                  sox, lrzsz, stm32flash), make, and the test extras (pytest, ruff, mypy, ...)
# Works as root on a fresh Debian 12 with Python 3.11, gcc and apt. Afterwards $PY is the venv's
# python (.venv/, with --system-site-packages so packages already on the machine are reused).
# Idempotent: apt runs only when a package is missing; pip only installs what is missing.

CCBOARD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_mode="${1:-run}"
_python="${CCBOARD_PYTHON:-python3}"

_apt=()
_want_deb() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || _apt+=("$1")
}
# The demo speaks its prompts with espeak-ng (synthesised once, then cached).
_want_deb espeak-ng
if [ "$_mode" = test ]; then
    for _p in libspandsp-dev sox lrzsz stm32flash postgresql libnet-smpp-perl; do _want_deb "$_p"; done
    command -v make >/dev/null || _apt+=(make)
fi
command -v gcc >/dev/null || _apt+=(gcc)
# The DAHDI binding is compiled against the real dahdi/user.h (never retyped structs).
_want_deb dahdi-source
if [ "$_mode" = test ]; then
    # The DAHDI VM stage (tests/test_dahdi_vm.py): qemu, a static busybox for the guest's
    # initramfs, the headers dahdi.ko is built against (their version picks the kernel image,
    # downloaded by the stage), dahdi_cfg, and OpenR2 for the far end. `dahdi-dkms-` keeps apt
    # from choosing dahdi-dkms for dahdi's dependency: it would build every driver (minutes).
    for _p in qemu-system-x86 busybox-static linux-headers-amd64 dahdi libopenr2-dev; do _want_deb "$_p"; done
    if [ "${#_apt[@]}" -gt 0 ]; then _apt+=(dahdi-dkms-); fi
fi
_want_deb libpri-dev  # ISDN PRI: built against Debian's libpri
_want_deb libtonezone-dev  # the zones' tones, read from libtonezone
_want_deb libpq5  # psycopg (the store's PostgreSQL backend) loads it at run time
# Debian's own python3 ships without headers and venv; a pyenv/python.org build has both.
"$_python" - <<'PY' || _apt+=(python3-dev)
import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))
PY
"$_python" -c 'import ensurepip, venv' 2>/dev/null || _apt+=(python3-venv)
if [ "${#_apt[@]}" -gt 0 ]; then
    echo "== apt-get install ${_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${_apt[@]}" >/dev/null
fi

VENV="$CCBOARD_ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
    echo "== python venv $VENV"
    "$_python" -m venv --system-site-packages "$VENV"
fi
PY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# Editable install: setuptools builds the C core and the Cython extensions in place
# (ccboard/dsp/*.so next to their .pyx), so tests and the demo run on the tree itself.
_extra=""
[ "$_mode" = test ] && _extra="[test]"
echo "== pip install -e .$_extra"
(cd "$CCBOARD_ROOT" && "$PY" -m pip install -q -e ".$_extra")
for _pyx in "$CCBOARD_ROOT"/ccboard/dsp/*.pyx; do
    _mod="$(basename "$_pyx" .pyx)"
    if ! ls "$CCBOARD_ROOT/ccboard/dsp/$_mod".*.so >/dev/null 2>&1; then
        echo "setup: ccboard/dsp/$_mod was not built in place" >&2
        return 1 2>/dev/null || exit 1
    fi
done
unset _mode _python _apt _p _extra _pyx _mod
