// core/cli/cmd_serve.cpp — placeholder: replaced by the piece of work that owns it.
#include <cstdio>

#include "cli/commands.h"
#include "cli/serve_options.h"

namespace llmatc::cli {
int cmd_serve(int, char**) { std::fprintf(stderr, "llm-atc serve: not built yet\n"); return 2; }
}  // namespace llmatc::cli
