"""The benchmark suite: xadapt against the `adapters` library, PEFT and plain transformers (`python -m bench`).

Not part of the installed package: it lives beside it, runs from the repository root, and its side
processes for the peers run in the peer virtual environment (tests/peer/setup_peer_env.sh).
"""
