"""The fake model's prompt hash and answer decision (tests/fakes/hret_fake_decide.h), for tests
that compute exact expected results. Import with
    sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
"""
M = 2**64 - 1


def fnv1a64(data):
    """FNV-1a 64 of bytes (str is encoded as UTF-8), as hret_hash_fnv1a64."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    h = 0xCBF29CE484222325
    for x in data:
        h = ((h ^ x) * 0x100000001B3) & M
    return h


def fnv_hex(data):
    """The answer key's hash: 16 lowercase hex digits of fnv1a64."""
    return f"{fnv1a64(data):016x}"


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def decide(h, seed):
    """Uniform in [0, 1) for (prompt hash, seed): correct iff decide(h, seed) < accuracy."""
    return (mix64(h ^ ((seed * 0x9E3779B97F4A7C15) & M)) >> 11) * 2.0**-53
