// cloud_providers/catalog/disk_sizing.cpp — model size estimates and root-disk sizing.
#include "disk_sizing.h"

#include <cctype>
#include <cmath>
#include <regex>

namespace llmatc::cloud_catalog {

ModelSize estimate_model_size(const std::string& model_name, uint64_t given) {
    if (given > 0) return {given, "its files' size"};
    // A parameter count written as a separate token of the name: "Llama-2-70b-hf", "vicuna-13b-v1.3", "stories260k".
    static const std::regex count(R"((^|[^0-9a-z.])([0-9]+(\.[0-9]+)?)([bmk])($|[^a-z]))", std::regex::icase);
    std::smatch m;
    std::string last_match;
    double params = 0;
    for (auto it = std::sregex_iterator(model_name.begin(), model_name.end(), count); it != std::sregex_iterator(); ++it) {
        m = *it;
        const double n = std::stod(m[2].str());
        const char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(m[4].str()[0])));
        params = n * (unit == 'b' ? 1e9 : unit == 'm' ? 1e6 : 1e3);
        last_match = m[2].str() + m[4].str();
    }
    if (params > 0)
        return {static_cast<uint64_t>(params * 2), last_match + " parameters in the name at 2 bytes each (fp16)"};
    return {30ull * 1000 * 1000 * 1000, "unknown: assumed 30 GB (the name states no parameter count)"};
}

int disk_gib_for(uint64_t model_bytes) {
    const double gib = 2.5 * static_cast<double>(model_bytes) / (1024.0 * 1024.0 * 1024.0) + 50.0;
    return static_cast<int>(std::ceil(gib / 10.0)) * 10;
}

}  // namespace llmatc::cloud_catalog
