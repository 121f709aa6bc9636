"""Build ccboard: the C99 core in native/ as a static library, then the Cython extensions
in ccboard/dsp/ linked against it.

C flags (native/ only; Cython's generated C gets the interpreter's defaults):
  -std=c99 -O2 -Wall -Wextra -Werror   the house baseline
  -fvect-cost-model=dynamic            gcc 12's -O2 vectorises only loops with no epilogue
                                       ("very cheap"); our block loops have fixed trip counts
                                       but need the ordinary cost model to be taken
  -fno-math-errno                      lets log10f/sqrtf inline; we never read errno
  -fno-wrapv                           undoes the interpreter's -fwrapv: our C never relies on
                                       signed wrap-around, and with it gcc gives up the pmaddwd
                                       dot-product form of the DTMF bins (1.18 vs 1.58 ns/sample)
The few block-rate loops marked CC_HOT are also built for AVX2 (gcc target_clones) and picked
at load time, so the package stays portable to any x86-64 (see native/include/ccboard/common.h).
"""

from __future__ import annotations

import glob
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext


class BuildExtWithNative(build_ext):
    """build_ext that always builds the native library first (also for --inplace and editable)."""

    def run(self) -> None:
        self.run_command("build_clib")
        super().run()


HERE = os.path.dirname(os.path.abspath(__file__))
NATIVE_INCLUDE = "native/include"
NATIVE_CFLAGS = [
    "-std=c99",
    "-O2",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-fvect-cost-model=dynamic",
    "-fno-math-errno",
    "-fno-wrapv",
]

native_sources = sorted(glob.glob("native/src/*.c"))
# An extension is relinked when any of these is newer: the native library is linked in statically.
native_depends = (
    native_sources
    + sorted(glob.glob("native/**/*.h", recursive=True))
    + sorted(glob.glob("ccboard/dsp/*.pxd"))
)

extensions = [
    Extension(
        f"ccboard.dsp.{os.path.splitext(os.path.basename(pyx))[0]}",
        [pyx],
        include_dirs=[NATIVE_INCLUDE, numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        depends=native_depends,
    )
    for pyx in sorted(glob.glob("ccboard/dsp/*.pyx"))
]

setup(
    cmdclass={"build_ext": BuildExtWithNative},
    # ccboard from the root; ccfw (firmware-tools/) is its own package tree and never imports ccboard
    packages=find_packages(include=["ccboard", "ccboard.*"])
    + find_packages("firmware-tools", include=["ccfw", "ccfw.*"]),
    package_dir={"ccfw": "firmware-tools/ccfw"},
    # the DAHDI user ABI, compiled against Debian's dahdi/user.h (scripts/setup.sh installs dahdi-source)
    # Debian's libpri, linked statically with its clock reads wrapped so the caller owns time;
    cffi_modules=[
        "ccboard/dahdi/_build.py:ffibuilder",
        "ccboard/signalling/_libpri_build.py:ffibuilder",
        "ccboard/dsp/_tonezone_build.py:ffibuilder",  # libtonezone: zone tones read, never retyped
    ],
    libraries=[
        (
            "ccnative",
            {
                "sources": native_sources,
                "include_dirs": [NATIVE_INCLUDE],
                "cflags": NATIVE_CFLAGS,
            },
        )
    ],
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "initializedcheck": False,
            "cdivision": True,
            "embedsignature": True,
        },
        annotate=bool(os.environ.get("CCBOARD_ANNOTATE")),
    ),
)
