from unittest import mock

from keras_lbie.utils import hardware

CPUINFO = [
    "processor\t: 0\n",
    "flags\t\t: fpu sse2 avx2 fma avx512f avx512_bf16 amx_tile\n",
]


def test_flags_come_from_cpuinfo():
    with mock.patch.object(hardware, "cpuinfo_lines", return_value=CPUINFO):
        assert {"fpu", "avx2", "amx_tile"} <= hardware.cpu_flags()
        assert hardware.vector_flags() == [
            "amx_tile",
            "avx2",
            "avx512_bf16",
            "avx512f",
        ]
        assert hardware.bf16_native()


def test_no_cpuinfo_means_no_flags():
    with mock.patch.object(hardware, "cpuinfo_lines", return_value=[]):
        assert hardware.cpu_flags() == set()
        assert hardware.vector_flags() == []
        assert not hardware.bf16_native()
