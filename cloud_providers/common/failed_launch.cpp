// cloud_providers/common/failed_launch.cpp — the cleanup after a failed launch, reporting its own failure.
#include "failed_launch.h"

#include <exception>
#include <string>

namespace llmatc::cloud_common {

void remove_after_failed_launch(const cloud_catalog::NodeSpec& spec, const cloud_catalog::ProgressFn& progress,
                                const std::function<void()>& remove_created) noexcept {
    try {
        progress("provisioning", "launch failed; removing what was created");
        remove_created();
    } catch (const std::exception& cleanup) {
        try {
            progress("provisioning", std::string("cleanup after the failed launch also failed: ") + cleanup.what() +
                                         "; `llm-atc down " + spec.name + "` retries it");
        } catch (...) {
            // The report itself failed (out of memory): the launch's own error still goes up.
        }
    } catch (...) {
        // Not a std::exception: nothing to report, and the launch's own error must go up.
    }
}

}  // namespace llmatc::cloud_common
