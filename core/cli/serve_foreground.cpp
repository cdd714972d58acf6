// core/cli/serve_foreground.cpp — placeholder: replaced by the piece of work that owns it.
#include <cstdio>

#include "cli/commands.h"
#include "cli/serve_options.h"

namespace llmatc::cli {
int serve_foreground(const ServeOptions&) { return 2; }
int serve_on_cluster(const ServeOptions&) { return 2; }
}  // namespace llmatc::cli
