"""es-provision's roles and env files, and `supportmesh trace` refusing half-set credentials before any request."""

import io
import stat

import pytest
from supportmesh_cli import es_security
from supportmesh_cli.main import run_async

pytestmark = pytest.mark.unit


def test_the_indexer_writes_hops_but_reads_none_and_the_trace_role_only_reads():
    indexer = es_security.indexer_role()
    assert indexer["cluster"] == ["manage_index_templates"]
    [hops] = indexer["indices"]
    assert hops["names"] == ["supportmesh-hops-*"] and "read" not in hops["privileges"]
    assert {"create_index", "write"} <= set(hops["privileges"])
    assert es_security.trace_role() == {"indices": [{"names": ["supportmesh-hops-*"], "privileges": ["read"]}]}
    assert es_security.retriever_role("kb")["indices"][0]["names"] == ["kb", "kb-*"]


def test_env_files_are_private_and_give_each_caller_its_own_credentials(tmp_path):
    creds = es_security.Credentials("indexer-key", "retriever-key", "supportmesh-trace", "pw")
    (tmp_path / "old").mkdir()
    stale = tmp_path / "old" / "retriever.env"
    stale.write_text("x")
    stale.chmod(0o644)
    paths = es_security.write_env_files(tmp_path / "old", creds, "https://es:9200", "")
    files = {p.name: p.read_text() for p in paths}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in paths)
    assert "ELASTICSEARCH_API_KEY=indexer-key\n" in files["hop-indexer.env"]
    assert "ELASTICSEARCH_API_KEY=retriever-key\n" in files["retriever.env"]
    assert "ELASTICSEARCH_USERNAME=supportmesh-trace\n" in files["supportmesh-cli.env"]
    assert all("ELASTICSEARCH_URL=https://es:9200\n" in text for text in files.values())


async def test_trace_refuses_a_user_without_password(monkeypatch, capsys):
    monkeypatch.setenv("ELASTICSEARCH_USERNAME", "supportmesh-trace")
    monkeypatch.delenv("ELASTICSEARCH_PASSWORD", raising=False)
    monkeypatch.delenv("ELASTICSEARCH_API_KEY", raising=False)
    code = await run_async(["trace", "T-1", "--es", "https://127.0.0.1:1"], out=io.StringIO())
    assert code == 2 and "ELASTICSEARCH_PASSWORD is not" in capsys.readouterr().err


async def test_trace_refuses_a_missing_ca_file(monkeypatch, capsys):
    for name in ("ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD", "ELASTICSEARCH_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    code = await run_async(["trace", "T-1", "--es", "https://127.0.0.1:1", "--ca-file", "/nonexistent.pem"],
                           out=io.StringIO())
    assert code == 2 and "ELASTICSEARCH_CA_FILE=/nonexistent.pem: cannot read it" in capsys.readouterr().err
