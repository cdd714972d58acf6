// cloud_providers/common/provider_text.h — small text pieces of the remote providers' messages and inputs: a file's
// text, a joined failover trail, an hourly price.
#pragma once

#include <string>
#include <vector>

namespace llmatc::cloud_common {

// The whole file at `path`. Throws std::runtime_error "<cloud>: cannot read the <what> <path>".
std::string read_text_file(const std::string& path, const std::string& cloud, const std::string& what);

// The items separated by "; " (the zone failover trail in an error message).
std::string join_notes(const std::vector<std::string>& notes);

// "$1.23/h": a USD hourly price as the progress lines show it.
std::string hourly_price_text(double usd_per_hour);

}  // namespace llmatc::cloud_common
