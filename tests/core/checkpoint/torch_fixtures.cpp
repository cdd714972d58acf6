// tests/core/checkpoint/torch_fixtures.cpp — runs make_torch_fixtures.py once and shares its output directory.
#include "torch_fixtures.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <string>

namespace ckpt_test {

const TempDir* torch_fixtures() {
    static TempDir dir;
    static const int exit_code = [] {
        const char* python = std::getenv("LLMATC_PYTHON");
        const char* script = std::getenv("LLMATC_TORCH_FIXTURE_SCRIPT");
        const std::string cmd = std::string("'") + (python && *python ? python : "/usr/bin/python3") + "' '" +
                                (script && *script ? script : "tests/core/checkpoint/make_torch_fixtures.py") +
                                "' '" + dir.path().string() + "'";
        const int status = std::system(cmd.c_str());
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }();
    if (exit_code == 77) {
        WARN("SKIP: PyTorch .bin tests need torch importable by /usr/bin/python3 (or $LLMATC_PYTHON); not found");
        return nullptr;
    }
    REQUIRE(exit_code == 0);
    return &dir;
}

}  // namespace ckpt_test
