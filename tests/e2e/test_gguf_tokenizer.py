"""tests/e2e/test_gguf_tokenizer.py — a GGUF checkpoint without tokenizer.model beside it tokenizes with the tokenizer
rebuilt from its tokenizer.ggml.* metadata exactly as Llama 2's tokenizer.model does: a tiny random Llama with Llama
2's real vocabulary is converted by benchmarks/llamacpp/convert_to_gguf.py, and every llama.cpp test vector of
../shared/tokenizers/llama2 is encoded through both (tests' tokenizer_reference_cli) and by `llm-atc generate`.

Environment: LLMATC_BUILD_DIR (default <repo>/build), LLMATC_SHARED (default <repo>/../shared).
"""
import json
import subprocess
import sys

import pytest

from conftest import BUILD_DIR, REPO_ROOT, SHARED

LLAMA2 = SHARED / "tokenizers" / "llama2"
CONVERTER = REPO_ROOT / "benchmarks" / "llamacpp" / "convert_to_gguf.py"
REFERENCE_CLI = BUILD_DIR / "tests" / "core" / "tokenizer" / "tokenizer_reference_cli"


@pytest.fixture(scope="module")
def gguf_dir(tmp_path_factory):
    """A directory holding only model.gguf: a one-layer random Llama with the Llama 2 vocabulary."""
    pytest.importorskip("gguf")
    pytest.importorskip("transformers")
    tmp = tmp_path_factory.mktemp("gguf-tokenizer")
    checkpoint = tmp / "checkpoint"
    result = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "make_random_llama.py"), "--out",
                             str(checkpoint), "--hidden-size", "64", "--layers", "1", "--heads", "2",
                             "--intermediate-size", "128", "--tokenizer", "llama2", "--dtype", "f32", "--seed", "0"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"make_random_llama.py failed:\n{result.stderr}"
    out = tmp / "gguf"
    out.mkdir()
    result = subprocess.run([sys.executable, str(CONVERTER), str(checkpoint), str(out / "model.gguf"), "--type", "f32"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"convert_to_gguf.py failed:\n{result.stderr}"
    assert not (out / "tokenizer.model").exists()
    return out


def encode_all(model_dir, texts, tmp_path):
    if not REFERENCE_CLI.is_file():
        pytest.skip(f"{REFERENCE_CLI} not built")
    texts_path = tmp_path / "texts.json"
    texts_path.write_text(json.dumps(texts))
    result = subprocess.run([str(REFERENCE_CLI), "encode", str(model_dir), str(texts_path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # The JSON is the last line: the tool keeps spdlog's default sink (stdout) for the loader's info messages.
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_gguf_metadata_tokenizer_matches_every_llama2_vector(gguf_dir, tmp_path):
    vectors = json.loads((LLAMA2 / "ggml-vocab-llama-spm.vectors.json").read_text())["cases"]
    texts = [case["text"] for case in vectors]
    from_gguf = encode_all(gguf_dir, texts, tmp_path)
    from_model = encode_all(LLAMA2, texts, tmp_path)
    for case, ids_gguf, ids_model in zip(vectors, from_gguf, from_model):
        assert ids_gguf == case["ids"], case["text"]
        assert ids_gguf == ids_model, case["text"]


def test_generate_on_the_gguf_encodes_and_decodes_like_llama2(gguf_dir, tmp_path):
    launcher = BUILD_DIR / "llm-atc"
    if not launcher.is_file():
        pytest.skip(f"{launcher} not built (set LLMATC_BUILD_DIR)")
    prompt = "Hello world, 3 ½ Führer\n\tdone"
    result = subprocess.run([str(launcher), "generate", "--model", str(gguf_dir), "--prompt", prompt,
                             "--max-tokens", "6", "--temperature", "0", "--ignore-eos", "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    [expected] = encode_all(LLAMA2, [prompt], tmp_path)
    assert out["prompt_token_ids"] == [1] + expected  # Llama 2 adds BOS
    assert len(out["token_ids"]) == 6
    assert out["text"]
