// core/cli/main.cpp — the llm-atc launcher: dispatches to a subcommand.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string_view>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "util/log.h"

namespace {

struct Command {
    const char* name;
    int (*run)(int, char**);
    const char* summary;
};

const Command kCommands[] = {
    {"serve", llmatc::cli::cmd_serve, "Serve a model behind an OpenAI-compatible endpoint (here, or on a cluster)"},
    {"generate", llmatc::cli::cmd_generate, "Generate a continuation of one prompt and print it"},
    {"status", llmatc::cli::cmd_status, "List clusters and their endpoints"},
    {"stop", llmatc::cli::cmd_stop, "Stop a cluster (its disk and state are kept)"},
    {"start", llmatc::cli::cmd_start, "Start a stopped cluster"},
    {"down", llmatc::cli::cmd_down, "Tear a cluster down and forget it"},
    {"logs", llmatc::cli::cmd_logs, "Print a cluster's server log"},
    {"show-accelerators", llmatc::cli::cmd_show_accelerators, "List the clouds' GPU instance types, prices and zones"},
    {"plugins", llmatc::cli::cmd_plugins, "List the plugins found (models, frontends, cloud providers)"},
};

void print_usage(std::FILE* out) {
    std::fprintf(out,
                 "llm-atc %s — serve large language models behind an OpenAI-compatible API, here or in the cloud\n\n"
                 "Usage: llm-atc <command> [options]    (llm-atc <command> --help for its options)\n\nCommands:\n",
                 LLMATC_VERSION);
    for (const auto& c : kCommands) std::fprintf(out, "  %-18s %s\n", c.name, c.summary);
    std::fprintf(out,
                 "\nEnvironment:\n"
                 "  LLMATC_PLUGIN_PATH   extra plugin directories, colon-separated (searched first)\n"
                 "  LLMATC_HOME          state folder for clusters and keys (default ~/.llm-atc)\n"
                 "  LLMATC_LOG_LEVEL     debug | info | warn | error (default info)\n"
                 "  LLMATC_CPU_ISA       scalar | avx2 | avx2-vnni | avx512-novnni | avx512: CPU kernels of a lower\n"
                 "                       level than this CPU's best (avx2-vnni: AVX2 with AVX-VNNI, Alder Lake on;\n"
                 "                       avx512-novnni: AVX-512 without VNNI, Skylake-SP)\n");
}

}  // namespace

int main(int argc, char** argv) {
    const char* level = std::getenv("LLMATC_LOG_LEVEL");
    llmatc::init_logging(level ? level : "info");
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
        print_usage(stdout);
        return argc < 2 ? 1 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("llm-atc %s\n", LLMATC_VERSION);
        return 0;
    }
    for (const auto& c : kCommands) {
        if (std::string_view(argv[1]) == c.name) {
            try {
                return c.run(argc - 1, argv + 1);
            } catch (const std::exception& e) {
                spdlog::error("{}", e.what());
                return 1;
            }
        }
    }
    std::fprintf(stderr, "llm-atc: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return 2;
}
