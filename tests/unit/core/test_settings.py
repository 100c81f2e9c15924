from pathlib import Path

import pytest

from console.core.errors import SettingsError
from console.core.settings import describe_settings, load_settings

README = Path(__file__).resolve().parents[3] / "README.md"


def test_defaults_put_the_sqlite_database_in_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.resolved_data_dir == (tmp_path / "data").resolve()
    assert settings.db_url == f"sqlite:///{(tmp_path / 'data' / 'console.db').resolve()}"
    assert settings.session_idle_minutes == 30
    assert settings.port == 3000
    assert settings.host == "127.0.0.1"


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BDC_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("BDC_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:5432/bdc")
    monkeypatch.setenv("BDC_LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.session_idle_minutes == 15
    assert settings.db_url == "postgresql+psycopg://u@127.0.0.1:5432/bdc"
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("BDC_SESSION_IDLE_MINUTES", "abc", "应为整数"),
        ("BDC_SESSION_IDLE_MINUTES", "0", "不能小于 1"),
        ("BDC_SESSION_IDLE_MINUTES", "100000", "不能大于 480"),
        ("BDC_PORT", "70000", "不能大于 65535"),
        ("BDC_LOG_LEVEL", "LOUD", "应为以下之一"),
        ("BDC_DATABASE_URL", "mysql://x", "仅支持"),
        ("BDC_PROVINCE_CODE", "330100", "格式不正确"),
        ("BDC_PASSWORD_MIN_LENGTH", "4", "不能小于 8"),
        ("BDC_TRUSTED_PROXIES", "10.0.0.0/8, 10.0.0.300", "「10.0.0.300」不是有效的 IP 地址或网段"),
    ],
)
def test_bad_value_names_the_variable_and_the_reason_in_chinese(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert variable in raised.value.message
    assert reason in raised.value.message
    assert repr(value) in raised.value.message


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = [name for name, _default, _text in describe_settings() if f"`{name}`" not in readme]
    assert missing == []
