"""The environment every Ray executor test shares: the default model, the data, a fresh XADAPT_HOME."""

import os
import secrets
from types import SimpleNamespace

import pytest
from cluster_helpers import QUICK_STUDY

from xadapt.models import resolve_model


@pytest.fixture(scope="module")
def env(tmp_path_factory, real_data):
    """The prepared default model (a folder), a fresh XADAPT_HOME and the quick study file."""
    model = str(resolve_model("multilingual-e5-small"))
    work = tmp_path_factory.mktemp("cluster")
    config = work / "quick.yaml"
    config.write_text(QUICK_STUDY, encoding="utf-8")
    environment = {**os.environ, "XADAPT_HOME": str(tmp_path_factory.mktemp("xadapt_home")), "COLUMNS": "200"}
    environment.pop("RAY_ADDRESS", None)
    # token authentication, with a token of this session's own (not the user's ~/.ray/auth_token): the cluster and its
    # drivers share it, as the nodes of a real cluster must
    environment.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    return SimpleNamespace(model=model, data=real_data, work=work, config=config, environment=environment)
