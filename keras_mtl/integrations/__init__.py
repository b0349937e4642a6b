"""Bridges to other recommender libraries, each imported on its own.

`keras_mtl.integrations.tfrs` (TensorFlow Recommenders) needs tf_keras 2
(`TF_USE_LEGACY_KERAS=1`) and `pip install "keras_mtl[tfrs]"`; `import
keras_mtl` never imports an integration.
"""
