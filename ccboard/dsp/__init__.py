"""Native DSP kernels over numpy buffers (Cython, no copies, GIL released in the C call).

Modules: g711 (A-law/mu-law), dtmf (receiver, bank of receivers, generator).
"""
