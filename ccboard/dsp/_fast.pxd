# Argument checks for the common case, done without Python calls. A False answer only means
# "not the common case": the caller then runs the full check in _args.py, which either accepts
# the argument or raises the error that names it.
cimport numpy as cnp


cdef inline bint fast_rows_ok(object x, int typenum, int ndim, bint writable):
    """x is a native-order ndarray of typenum and ndim whose rows are C-contiguous."""
    if not cnp.PyArray_Check(x):
        return False
    cdef cnp.ndarray a = <cnp.ndarray>x
    if cnp.PyArray_TYPE(a) != typenum or cnp.PyArray_NDIM(a) != ndim or not cnp.PyArray_ISNOTSWAPPED(a):
        return False
    if writable and not cnp.PyArray_ISWRITEABLE(a):
        return False
    if ndim == 1:
        return cnp.PyArray_IS_C_CONTIGUOUS(a)
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *strides = cnp.PyArray_STRIDES(a)
    cdef cnp.npy_intp item = cnp.PyArray_ITEMSIZE(a)
    if dims[0] == 0 or dims[1] == 0:
        return True
    if dims[1] > 1 and strides[1] != item:
        return False
    if dims[0] > 1 and (strides[0] < 0 or strides[0] % item):
        return False
    return True
