"""RESERVED for ISDN PRI over the VM's software spans (issue 11; owned by the PRI engineer).

Place here: a D-channel on the loc spans (dchan=/hardhdlc= in tests/vm/guest/system.conf),
libpri's network side on span 1 against our user side on span 2, a call set up and cleared --
or a test that pins down exactly what the software spans cannot carry. Measured while building
the stage: dahdi_dynamic's channels advertise no HDLC signalling in sigcap (EM, CLEAR, FX*, SF,
DACS_RBS, CAS only; dahdi_dynamic.c), so check that dahdi_cfg accepts dchan= on them first.

Files named vm_*.py are collected inside the VM only (tests/vm/run_vm.py); the host-side entry
(tests/test_dahdi_vm.py) turns each test here into a host test outcome automatically.
"""
