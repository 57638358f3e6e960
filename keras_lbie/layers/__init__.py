"""keras_lbie.layers."""

from keras_lbie.layers.bilinear_upsampling import BilinearUpsampling
from keras_lbie.layers.conv_gru import ConvGRU
from keras_lbie.layers.hierarchical_text_encoder import HierarchicalTextEncoder
from keras_lbie.layers.text_attention import TextAttention
from keras_lbie.layers.text_encoder import TextEncoder
from keras_lbie.layers.conv_gru_fusion import ConvGRUFusion
from keras_lbie.layers.termination_gate import TerminationGate

__all__ = [
    "BilinearUpsampling",
    "ConvGRU",
    "HierarchicalTextEncoder",
    "TextAttention",
    "TextEncoder",
]
