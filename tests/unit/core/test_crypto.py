import os
import stat
from pathlib import Path

import pytest

from console.core.crypto import DecryptionFailed, KeyMissing, ensure_key_files, keyring
from console.core.masking import mask_id_number, mask_name, mask_phone
from console.core.settings import get_settings


def test_init_generates_private_key_files_once() -> None:
    created = ensure_key_files()
    assert {p.name for p in created} == {"sm4.key", "hmac.key"}
    for path in created:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_key_files() == []


def test_missing_keys_are_reported_in_chinese() -> None:
    with pytest.raises(KeyMissing) as missing:
        keyring()
    assert "python -m console init" in missing.value.message


def test_encryption_round_trips_and_hides_the_plaintext() -> None:
    ensure_key_files()
    ring = keyring()
    token = ring.encrypt("张三丰 330106199001011234")
    assert "张三" not in token and "330106" not in token
    assert ring.decrypt(token) == "张三丰 330106199001011234"
    assert ring.encrypt("same") != ring.encrypt("same")


def test_tampered_ciphertext_is_refused() -> None:
    ensure_key_files()
    ring = keyring()
    token = ring.encrypt("13812345678")
    prefix, payload = token.split(":")
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    with pytest.raises(DecryptionFailed):
        ring.decrypt(f"{prefix}:{flipped}")


def test_digest_is_stable_keyed_and_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    ensure_key_files()
    digest = keyring().digest("33010619900101123x")
    assert digest == keyring().digest(" 33010619900101123X ")
    assert digest == keyring().digest("３３０１０６１９９００１０１１２３Ｘ")
    monkeypatch.setenv("BDC_HMAC_KEY", "ab" * 32)
    monkeypatch.setenv("BDC_SM4_KEY", "cd" * 16)
    get_settings.cache_clear()
    assert keyring().digest("33010619900101123X") != digest


def test_keys_from_the_environment_need_no_files(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BDC_HMAC_KEY", "ab" * 32)
    monkeypatch.setenv("BDC_SM4_KEY", "cd" * 16)
    monkeypatch.setenv("BDC_CHAIN_KEY", "ef" * 32)
    get_settings.cache_clear()
    assert ensure_key_files() == []
    assert keyring().decrypt(keyring().encrypt("x")) == "x"
    assert not os.path.exists(get_settings().key_dir / "sm4.key")


def test_bad_key_setting_is_named_without_echoing_the_secret(monkeypatch) -> None:
    from console.core.errors import SettingsError
    from console.core.settings import load_settings

    monkeypatch.setenv("BDC_SM4_KEY", "secret-value-xyz")
    with pytest.raises(SettingsError) as bad:
        load_settings()
    assert "BDC_SM4_KEY" in bad.value.message and "32位十六进制" in bad.value.message
    assert "secret-value-xyz" not in bad.value.message


@pytest.mark.parametrize(
    ("masker", "value", "masked"),
    [
        (mask_name, "张三", "张*"),
        (mask_name, "张小三", "张*三"),
        (mask_name, "欧阳小明", "欧**明"),
        (mask_id_number, "33010619900101123X", "330106********123X"),
        (mask_id_number, "E12345678", "E1*****78"),
        (mask_phone, "13812345678", "138****5678"),
    ],
)
def test_masks_keep_only_what_identifies_nobody(masker, value: str, masked: str) -> None:
    assert masker(value) == masked
