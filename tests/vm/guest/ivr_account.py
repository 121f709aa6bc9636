"""One IVR script for the sim and the real driver (tests/test_dahdi_vm.py runs it on the sim,
tests/vm/guest/vm_ivr.py in the VM): answer, collect an account number ended by '#', hang up."""

from __future__ import annotations

from ccboard.ivr import IvrCall

ACCOUNT = "4071"
KEYED = ACCOUNT + "#"


async def account_script(call: IvrCall) -> None:
    """Answer, take up to 8 digits ended by '#', keep them as the call's 'account' tag, hang up."""
    await call.answer()
    r = await call.get_digits(
        max_digits=8, terminators="#", first_digit_timeout=10.0, inter_digit_timeout=3.0
    )
    call.tag("account", r.digits)
    call.tag("reason", r.reason.name)
    await call.hangup()
