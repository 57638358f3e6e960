"""What the machine's CPU can do, read from /proc/cpuinfo (stdlib only)."""

# /proc/cpuinfo flags of native bf16 matrix arithmetic on x86.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
# The prefixes of the flags that set a machine's arithmetic speed, which
# speed reports quote.
VECTOR_FLAG_PREFIXES = ("avx2", "avx512", "amx")


def cpu_flags():
    """The CPU's feature flags from /proc/cpuinfo (empty elsewhere)."""
    for line in cpuinfo_lines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def vector_flags():
    """The sorted AVX2, AVX-512 and AMX flags of the CPU, for speed reports."""
    return sorted(
        flag for flag in cpu_flags() if flag.startswith(VECTOR_FLAG_PREFIXES)
    )


def bf16_native():
    """Whether the CPU has native bf16 matrix arithmetic."""
    return any(flag in cpu_flags() for flag in BF16_FLAGS)


def cpuinfo_lines():
    """The lines of /proc/cpuinfo, or none where there is no such file."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return cpuinfo.read().splitlines()
    except OSError:
        return []
