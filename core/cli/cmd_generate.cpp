// core/cli/cmd_generate.cpp — placeholder: replaced by the piece of work that owns it.
#include <cstdio>

#include "cli/commands.h"
#include "cli/serve_options.h"

namespace llmatc::cli {
int cmd_generate(int, char**) { std::fprintf(stderr, "llm-atc generate: not built yet\n"); return 2; }
}  // namespace llmatc::cli
