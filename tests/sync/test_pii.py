"""Personal data at rest: AES-GCM bound to the row, key rotation, keyed blind indexes, masks."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from sync.pii import PiiKeyError, PiiProtector, mask_nik, mask_phone


def keys(*ids):
    return ",".join(f"{i}:{base64.b64encode(os.urandom(32)).decode()}" for i in ids)


def test_round_trip_and_row_binding(pii):
    token = pii.encrypt("3215011203850001", row_id="row1")
    assert "3215011203850001" not in token and token.startswith("k1:")
    assert pii.decrypt(token, row_id="row1") == "3215011203850001"
    assert pii.encrypt("3215011203850001", row_id="row1") != token  # random nonce
    with pytest.raises(InvalidTag):
        pii.decrypt(token, row_id="another-row")


def test_rotation_keeps_old_ciphertexts_readable():
    index = base64.b64encode(os.urandom(32)).decode()
    old_spec = keys("k1")
    old = PiiProtector.from_config(old_spec, index)
    token = old.encrypt("0812", row_id="r")
    new = PiiProtector.from_config(keys("k2") + "," + old_spec, index)
    assert new.decrypt(token, row_id="r") == "0812"
    assert new.encrypt("0812", row_id="r").startswith("k2:")


def test_blind_index_is_keyed_and_purpose_separated(pii):
    other = PiiProtector.from_config(keys("k1"), base64.b64encode(os.urandom(32)).decode())
    nik = "3215011203850001"
    assert pii.blind_index("nik", nik) == pii.blind_index("nik", nik)
    assert pii.blind_index("nik", nik) != other.blind_index("nik", nik)
    assert pii.blind_index("nik", nik) != pii.blind_index("phone", nik)


@pytest.mark.parametrize(
    ("spec", "index"), [(None, None), ("k1", "x"), ("k1:AAAA", base64.b64encode(b"x" * 32).decode())]
)
def test_bad_keys_are_refused(spec, index):
    with pytest.raises(PiiKeyError):
        PiiProtector.from_config(spec, index)


def test_masks():
    assert mask_nik("3215011203850007") == "321501********07"
    assert mask_nik("12345") == "*****"
    assert mask_phone("+6281234567890") == "+62812*****890"
