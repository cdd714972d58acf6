// core/deploy/serve_on_cluster.cpp — `llm-atc serve -c NAME ...`: the CLI's entry into the launcher's cluster side,
// with the launcher's error convention (one actionable line on stderr, non-zero exit).
#include <cstdio>
#include <exception>

#include "cli/serve_options.h"
#include "deploy/cluster_lifecycle.h"
#include "deploy/envs.h"
#include "util/error.h"
#include "util/log.h"

namespace llmatc::cli {

int serve_on_cluster(const ServeOptions& options) {
    const auto secrets = deploy::secrets_of(options.envs, options.api_key);
    try {
        return deploy::launch_cluster(options);
    } catch (const Error& e) {
        std::fprintf(stderr, "llm-atc serve: %s\n", mask_secrets(e.what(), secrets).c_str());
        return e.status() == LLMATC_ERR_INVALID_ARGUMENT ? 2 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llm-atc serve: %s\n", mask_secrets(e.what(), secrets).c_str());
        return 1;
    }
}

}  // namespace llmatc::cli
