// cloud_providers/common/provider_text.cpp — reading a text file, joining notes, formatting an hourly price.
#include "provider_text.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace llmatc::cloud_common {

std::string read_text_file(const std::string& path, const std::string& cloud, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(cloud + ": cannot read the " + what + " " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string join_notes(const std::vector<std::string>& notes) {
    std::string out;
    for (const auto& note : notes) out += (out.empty() ? "" : "; ") + note;
    return out;
}

std::string hourly_price_text(double usd_per_hour) {
    char price[32];
    std::snprintf(price, sizeof price, "$%.2f/h", usd_per_hour);
    return price;
}

}  // namespace llmatc::cloud_common
