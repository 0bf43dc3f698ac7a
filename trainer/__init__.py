"""Genre Tagger trainer: datasets, models, training, evaluation and ONNX export."""

__version__ = "0.1.0"
