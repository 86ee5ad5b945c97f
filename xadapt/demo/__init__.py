"""The web demo: pick a task adapter and a language adapter, type a sentence, see what the composition predicts.

- `catalog`: finds saved runs, language adapters and studies on disk; the only way names from the page reach files
- `predictor`: one base model with every adapter loaded once; a composition per request
- `kinds`, `spans`, `examples`, `report_view`: task kinds, NER spans, benchmark examples, a sweep's report
- `app`: the `gr.Blocks` page and `serve` (imports gradio; the rest of this package does not)
- `quickstart`: trains a small set of parts once, for `xadapt demo --quickstart`
"""
