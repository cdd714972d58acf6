// cloud_providers/common/poll_interval.cpp — the poll interval, 2 s unless LLMATC_CLOUD_POLL_MS overrides it.
#include "poll_interval.h"

#include <algorithm>
#include <cstdlib>

namespace llmatc::cloud_common {

int poll_interval_ms() {
    const char* v = std::getenv("LLMATC_CLOUD_POLL_MS");
    return v && *v ? std::max(10, std::atoi(v)) : 2000;
}

}  // namespace llmatc::cloud_common
