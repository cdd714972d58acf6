// cloud_providers/catalog/disk_sizing.h — how big a node's root disk must be for a model, sized from its weights.
#pragma once

#include <cstdint>
#include <string>

namespace llmatc::cloud_catalog {

struct ModelSize {
    uint64_t bytes = 0;
    std::string basis;  // how it was found, for the plan ("given", "13B parameters in the name at 2 bytes each", ...)
};

// The model's weight bytes: `given` when non-zero; else estimated from a parameter count in the name ("7b",
// "13B", "70b", "1.5b", "260k") at 2 bytes per parameter (fp16/bf16); else 30 GB, said plainly.
ModelSize estimate_model_size(const std::string& model_name, uint64_t given);

// Root disk in GiB: 2.5x the weights (the download, the converted/cached copy, headroom) plus 50 GiB for the
// image and runtime, rounded up to a multiple of 10.
int disk_gib_for(uint64_t model_bytes);

}  // namespace llmatc::cloud_catalog
