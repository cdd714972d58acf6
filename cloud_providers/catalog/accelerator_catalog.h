// cloud_providers/catalog/accelerator_catalog.h — a cloud's accelerator catalog (instance types with their GPUs,
// prices per region and zones) and the choice of an instance type for NAME:COUNT in a region.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmatc::cloud_catalog {

// A request the catalog cannot satisfy (unknown accelerator, region or zone); the message lists the valid choices.
struct CatalogError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

struct Offer {
    std::string instance_type;
    std::string accelerator;       // catalog name, e.g. "A100-80GB"
    std::string accelerator_type;  // the cloud's own name where it needs one (GCP guestAccelerators), else ""
    int count = 0;
    double gpu_memory_gib = 0;     // per GPU
    int vcpus = 0;
    double memory_gib = 0;
    std::map<std::string, double> prices;                   // region -> USD per hour, on demand
    std::map<std::string, std::vector<std::string>> zones;  // region -> zones offering it (empty: all the region's)
};

struct Catalog {
    std::string cloud, source, date, currency;
    std::map<std::string, std::vector<std::string>> regions;  // region -> its zones, in the order to try them
    std::vector<Offer> offers;
};

// Parses a catalog data file's text; `origin` names it in messages. Throws std::runtime_error on a malformed file.
Catalog parse_catalog(std::string_view json_text, const std::string& origin);

// The catalogs built into this library from cloud_providers/catalog/<cloud>_catalog.json.
const Catalog& aws_catalog();
const Catalog& gcp_catalog();

// The catalog in the cloud ABI's shape: {"source","date","regions","offers":[{accelerator,count,instance_type,
// gpu_memory_gib,vcpus,memory_gib,region,zones,hourly_price}]} — one offer per (instance type, region).
std::string catalog_abi_json(const Catalog& catalog);

struct InstanceChoice {
    Offer offer;
    std::string region;
    std::vector<std::string> zones;  // in the order to try (just the asked zone when one was given)
    double hourly_price = 0;
    std::string note;                // said to the user when the choice is not an exact fit ("" otherwise)
};

// Picks the instance type for `count` GPUs named `accelerator` (case-insensitive) in `region`: the cheapest type
// there with exactly `count`, else the cheapest of the smallest counts above it. `zone` "" means every zone of the
// region that offers it. Throws CatalogError listing the valid accelerators, regions or zones.
InstanceChoice choose_instance(const Catalog& catalog, const std::string& accelerator, int count,
                               const std::string& region, const std::string& zone);

}  // namespace llmatc::cloud_catalog
