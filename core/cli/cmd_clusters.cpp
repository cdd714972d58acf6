// core/cli/cmd_clusters.cpp — placeholder: replaced by the piece of work that owns it.
#include <cstdio>

#include "cli/commands.h"
#include "cli/serve_options.h"

namespace llmatc::cli {
int cmd_status(int, char**) { std::fprintf(stderr, "llm-atc status: not built yet\n"); return 2; }
int cmd_stop(int, char**) { return 2; }
int cmd_start(int, char**) { return 2; }
int cmd_down(int, char**) { return 2; }
int cmd_logs(int, char**) { return 2; }
}  // namespace llmatc::cli
