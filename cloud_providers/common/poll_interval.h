// cloud_providers/common/poll_interval.h — how long a remote provider waits between two polls of a cloud's state.
#pragma once

namespace llmatc::cloud_common {

// Milliseconds between polls (instance state, long-running operations, retries): 2000, or LLMATC_CLOUD_POLL_MS
// (at least 10) where set, which tests use to shorten the waits against fake clouds.
int poll_interval_ms();

}  // namespace llmatc::cloud_common
