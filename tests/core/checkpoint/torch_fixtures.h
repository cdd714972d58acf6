// tests/core/checkpoint/torch_fixtures.h — the PyTorch checkpoints made once per test run by make_torch_fixtures.py.
#pragma once

#include "checkpoint_test_support.h"

namespace ckpt_test {

// Runs make_torch_fixtures.py ($LLMATC_TORCH_FIXTURE_SCRIPT with /usr/bin/python3 or $LLMATC_PYTHON) into a temp
// dir on first use. Returns nullptr, after a visible SKIP warning, only when torch is not importable; any other
// failure of the script fails the calling test.
const TempDir* torch_fixtures();

}  // namespace ckpt_test
