"""DAHDI's user ABI over cffi: the binding is built against the real <dahdi/user.h>.

Modules: _build (the cffi build module: every cdef), _dahdi (the compiled extension: ffi, lib),
ioctl (typed wrappers: ChannelDevice, Params, SpanInfo, _check).
"""
