"""keras_lbie.layers."""

from keras_lbie.layers.bilinear_upsampling import BilinearUpsampling
from keras_lbie.layers.conv_gru import ConvGRU
from keras_lbie.layers.conv_gru_fusion import ConvGRUFusion
from keras_lbie.layers.hierarchical_text_encoder import HierarchicalTextEncoder
from keras_lbie.layers.relational_text_attention import RelationalTextAttention
from keras_lbie.layers.spatial_features import SpatialFeatures
from keras_lbie.layers.termination_gate import TerminationGate
from keras_lbie.layers.text_attention import TextAttention
from keras_lbie.layers.text_encoder import TextEncoder

__all__ = [
    "BilinearUpsampling",
    "ConvGRU",
    "ConvGRUFusion",
    "HierarchicalTextEncoder",
    "RelationalTextAttention",
    "SpatialFeatures",
    "TerminationGate",
    "TextAttention",
    "TextEncoder",
]
