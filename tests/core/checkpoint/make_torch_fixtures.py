# tests/core/checkpoint/make_torch_fixtures.py — writes PyTorch .bin checkpoints (good and hostile) for the C++ tests.
"""Usage: make_torch_fixtures.py OUT_DIR

Each subdirectory of OUT_DIR is one checkpoint directory. Values are deterministic (arange-based) so the C++ test
can check them without reading anything back from Python. Exits 77 when torch is not importable, so the caller
can report a skip rather than a failure.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile
import zlib

try:
    import torch
except ImportError:
    print("torch is not importable with", sys.executable, file=sys.stderr)
    sys.exit(77)

CONFIG = {"architectures": ["LlamaForCausalLM"], "eos_token_id": 2}


def checkpoint_dir(root, name):
    path = os.path.join(root, name)
    os.makedirs(path)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(CONFIG, f)
    return path


class TinyModule(torch.nn.Module):
    """A module whose state_dict() is an OrderedDict with _metadata, as transformers' older save path writes."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(4, 3, bias=False)
        self.register_buffer("positions", torch.arange(5, dtype=torch.int64))
        with torch.no_grad():
            self.proj.weight.copy_(torch.arange(12, dtype=torch.float32).reshape(3, 4))


def good_state_dict():
    sd = TinyModule().state_dict()
    sd["half"] = (torch.arange(6, dtype=torch.float32) * 0.5).to(torch.float16).reshape(2, 3)
    sd["brain"] = (torch.arange(4, dtype=torch.float32) - 2).to(torch.bfloat16)
    backing = torch.arange(10, dtype=torch.float32)  # two views sharing one storage at different offsets
    sd["slice.low"] = backing[2:5]
    sd["slice.high"] = backing[5:9].reshape(2, 2)
    sd["scalar"] = torch.tensor(4.25)
    return sd


def rezip(src, dst, compression, drop=None, extra=None):
    """Copies a torch.save archive, optionally dropping an entry or adding entries {suffix: bytes}."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        prefix = zin.infolist()[0].filename.split("/")[0] + "/"
        for info in zin.infolist():
            if drop and info.filename.endswith(drop):
                continue
            zout.writestr(info.filename, zin.read(info.filename))
        for suffix, data in (extra or {}).items():
            zout.writestr(prefix + suffix, data)


def zip64_copy(src, dst):
    """Rewrites a stored archive with every size and offset in zip64 records, as torch.save does above 4 GB
    (vicuna-13b's shards are ~10 GB), without writing gigabytes: the fields are saturated, the values small."""
    with zipfile.ZipFile(src) as zin:
        entries = [(info.filename.encode(), zin.read(info.filename)) for info in zin.infolist()]
    out, central = bytearray(), bytearray()
    for name, data in entries:
        crc, offset, size = zlib.crc32(data), len(out), len(data)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                           len(name), 20) + name + struct.pack("<HHQQ", 1, 16, size, size) + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF,
                               0xFFFFFFFF, len(name), 28, 0, 0, 0, 0, 0xFFFFFFFF) + name + \
            struct.pack("<HHQQQ", 1, 24, size, size, offset)
    cd_offset = len(out)
    out += central
    end64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries), len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(dst, "wb") as f:
        f.write(out)


def hostile_archive(path, payload):
    """A zip laid out like torch.save's whose data.pkl is `payload`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/version", "3\n")


class CallsOsSystem:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch " + self.marker,))


class CallsEval:
    def __reduce__(self):
        return (eval, ("1+1",))


def main(root):
    single = checkpoint_dir(root, "single")
    torch.save(good_state_dict(), os.path.join(single, "pytorch_model.bin"))

    # The raw pickle alone, for the unpickler's mutation test.
    with zipfile.ZipFile(os.path.join(single, "pytorch_model.bin")) as z:
        with open(os.path.join(root, "state_dict.pkl"), "wb") as f:
            f.write(z.read("pytorch_model/data.pkl"))

    params = checkpoint_dir(root, "parameters")
    torch.save({"w": torch.nn.Parameter(torch.arange(6, dtype=torch.float32).reshape(2, 3))},
               os.path.join(params, "pytorch_model.bin"))

    sharded = checkpoint_dir(root, "sharded")
    shard_names = ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"]
    torch.save({"a.weight": torch.arange(4, dtype=torch.float32)}, os.path.join(sharded, shard_names[0]))
    torch.save({"b.weight": torch.arange(6, dtype=torch.float32).to(torch.float16).reshape(3, 2)},
               os.path.join(sharded, shard_names[1]))
    with open(os.path.join(sharded, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 28},
                   "weight_map": {"a.weight": shard_names[0], "b.weight": shard_names[1]}}, f)

    compressed = checkpoint_dir(root, "compressed")
    rezip(os.path.join(single, "pytorch_model.bin"), os.path.join(compressed, "pytorch_model.bin"), zipfile.ZIP_DEFLATED)

    # torch >= 2.1 adds these records; Debian's 1.13 does not, so they are added by hand.
    newer = checkpoint_dir(root, "torch2_records")
    rezip(os.path.join(single, "pytorch_model.bin"), os.path.join(newer, "pytorch_model.bin"), zipfile.ZIP_STORED,
          extra={"byteorder": b"little", ".data/serialization_id": b"0123456789", ".data/version": b"3\n"})
    big_endian = checkpoint_dir(root, "bad_big_endian")
    rezip(os.path.join(single, "pytorch_model.bin"), os.path.join(big_endian, "pytorch_model.bin"), zipfile.ZIP_STORED,
          extra={"byteorder": b"big"})

    zip64 = checkpoint_dir(root, "zip64")
    zip64_copy(os.path.join(single, "pytorch_model.bin"), os.path.join(zip64, "pytorch_model.bin"))

    missing_storage = checkpoint_dir(root, "bad_missing_storage")
    rezip(os.path.join(single, "pytorch_model.bin"), os.path.join(missing_storage, "pytorch_model.bin"),
          zipfile.ZIP_STORED, drop="/data/0")

    marker = os.path.join(root, "os_system_was_called")
    evil = checkpoint_dir(root, "bad_os_system")
    hostile_archive(os.path.join(evil, "pytorch_model.bin"),
                    pickle.dumps(collections.OrderedDict(w=CallsOsSystem(marker)), protocol=2))

    evil_eval = checkpoint_dir(root, "bad_eval")
    hostile_archive(os.path.join(evil_eval, "pytorch_model.bin"), pickle.dumps({"w": CallsEval()}, protocol=2))

    noncontig = checkpoint_dir(root, "bad_noncontiguous")
    torch.save({"transposed.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3).t()},
               os.path.join(noncontig, "pytorch_model.bin"))

    not_tensor = checkpoint_dir(root, "bad_not_tensor")
    torch.save({"w": torch.ones(2), "step": 3}, os.path.join(not_tensor, "pytorch_model.bin"))

    double = checkpoint_dir(root, "bad_double")
    torch.save({"double.weight": torch.ones(2, dtype=torch.float64)}, os.path.join(double, "pytorch_model.bin"))

    truncated = checkpoint_dir(root, "bad_truncated")
    with open(os.path.join(single, "pytorch_model.bin"), "rb") as f:
        data = f.read()
    with open(os.path.join(truncated, "pytorch_model.bin"), "wb") as f:
        f.write(data[: len(data) // 2])

    legacy = checkpoint_dir(root, "bad_legacy")
    torch.save({"w": torch.ones(2)}, os.path.join(legacy, "pytorch_model.bin"), _use_new_zipfile_serialization=False)

    missing_shard = checkpoint_dir(root, "bad_missing_shard")
    torch.save({"a.weight": torch.ones(2)}, os.path.join(missing_shard, shard_names[0]))
    with open(os.path.join(missing_shard, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"weight_map": {"a.weight": shard_names[0], "b.weight": shard_names[1]}}, f)

    # Raw-bytes variants of hostile pickles are kept out of torch's hands entirely.
    list_root = checkpoint_dir(root, "bad_list_root")
    hostile_archive(os.path.join(list_root, "pytorch_model.bin"), pickle.dumps([1, 2, 3], protocol=2))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
