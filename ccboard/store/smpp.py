"""SMPP 3.4 gateway for the SMS outbox, on smpplib (PyPI `smpplib`, python-smpplib).

One transmitter bind per gateway; send() submits one message (split into concatenated parts
with a UDH when it is too long for one SMS, UCS-2 when GSM 03.38 cannot carry it) and waits for
each submit_sm_resp. A refused submit raises SmsGatewayError with the SMPP command_status;
statuses that no retry can fix (bad destination, message too long) are marked permanent.
"""

from __future__ import annotations

from typing import Any, Final

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp

from ccboard.errors import SmsGatewayError

# command_status values (SMPP 3.4 section 5.1.3) after which a retry cannot succeed.
ESME_RINVMSGLEN: Final = 0x01
ESME_RINVDSTADR: Final = 0x0B
ESME_RINVDSTTON: Final = 0x50
ESME_RINVDSTNPI: Final = 0x51
PERMANENT: Final = frozenset({ESME_RINVMSGLEN, ESME_RINVDSTADR, ESME_RINVDSTTON, ESME_RINVDSTNPI})


class SmppGateway:
    """An SMS gateway over SMPP (bind_transmitter); reconnects on the next send after a failure.

    source_addr: the sender shown to the customer; timeout_s: socket timeout per PDU (s).
    """

    def __init__(
        self,
        host: str,
        port: int,
        system_id: str,
        password: str,
        source_addr: str = "ccboard",
        system_type: str = "",
        timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.system_id = system_id
        self.password = password
        self.source_addr = source_addr
        self.system_type = system_type
        self.timeout_s = timeout_s
        self._client: Any = None

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        # unknown optional TLVs are ignored, as SMPP 3.4 section 3.2.4 asks of a receiver
        client = smpplib.client.Client(
            self.host, self.port, timeout=self.timeout_s, allow_unknown_opt_params=True
        )
        try:
            client.connect()
            client.bind_transmitter(
                system_id=self.system_id, password=self.password, system_type=self.system_type
            )
        except smpplib.exceptions.PDUError as exc:
            client.disconnect()
            status = int(exc.args[1]) if len(exc.args) > 1 else 0
            raise SmsGatewayError(f"bind to {self.host}:{self.port} refused: {exc.args[0]}", status) from exc
        except (OSError, smpplib.exceptions.ConnectionError) as exc:
            client.disconnect()
            raise SmsGatewayError(f"cannot connect to SMSC {self.host}:{self.port}: {exc}") from exc
        self._client = client
        return client

    def send(self, number: str, body: str) -> str:
        """Submit one SMS to `number`; returns the SMSC's message id (parts' ids joined by ',')."""
        parts, coding, esm_class = smpplib.gsm.make_parts(body)
        client = self._connect()
        ids = []
        try:
            for part in parts:
                pdu = client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                    source_addr_npi=smpplib.consts.SMPP_NPI_UNK,
                    source_addr=self.source_addr,
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                    destination_addr=number,
                    short_message=part,
                    data_coding=coding,
                    esm_class=esm_class,
                    registered_delivery=False,
                )
                ids.append(self._await_resp(client, pdu.sequence, number))
        except (OSError, smpplib.exceptions.ConnectionError) as exc:
            self.close()
            raise SmsGatewayError(f"SMSC {self.host}:{self.port} connection lost: {exc}", key=number) from exc
        return ",".join(ids)

    def _await_resp(self, client: Any, sequence: int, number: str) -> str:
        while True:
            resp = client.read_pdu()
            if resp.command == "enquire_link":  # the SMSC checks we are alive
                client.send_pdu(
                    smpplib.smpp.make_pdu("enquire_link_resp", client=client, sequence=resp.sequence)
                )
                continue
            if resp.command not in ("submit_sm_resp", "generic_nack") or resp.sequence != sequence:
                continue  # not ours (a late response); keep waiting
            status = int(resp.status)
            if status != 0:
                text = smpplib.consts.DESCRIPTIONS.get(status, "unknown status")
                raise SmsGatewayError(
                    f"submit_sm to {number} refused: 0x{status:02X} {text}",
                    status,
                    number,
                    status in PERMANENT,
                )
            mid = resp.message_id
            return mid.decode("ascii", "replace") if isinstance(mid, bytes) else str(mid)

    def close(self) -> None:
        """Unbind and disconnect (idempotent)."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.unbind()
        except Exception:  # noqa: BLE001 - the link may already be gone; closing must not fail
            pass
        client.disconnect()
