// core/cli/cmd_show_accelerators.cpp — `llm-atc show-accelerators [--cloud C] [--region R] [--json]`: the
// accelerator catalogs of the cloud-provider plugins (instance types, GPUs, price per region, zones).
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <rapidjson/document.h>

#include "cli/commands.h"
#include "plugin_registry/plugin_registry.h"
#include "util/error.h"

namespace llmatc::cli {

namespace po = boost::program_options;

namespace {

struct CatalogText {
    std::string text;
};

void receive(const char* text, size_t len, void* user) { static_cast<CatalogText*>(user)->text.assign(text, len); }

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

// The catalog JSON text of one provider (the shape documented in llmatc/cloud.h).
std::string catalog_text(const PluginRecord& p) {
    const auto* table = static_cast<const llmatc_cloud_plugin*>(p.interface);
    if (!table || !table->catalog) throw Error(LLMATC_ERR_UNSUPPORTED, "cloud '" + p.name + "' has no catalog");
    CatalogText out;
    set_thread_error("");
    if (const llmatc_status st = table->catalog(receive, &out); st != LLMATC_OK)
        throw Error(st, "cloud '" + p.name + "' could not list its catalog: " + thread_error());
    return out.text;
}

std::string s(const rapidjson::Value& o, const char* k) {
    return o.HasMember(k) && o[k].IsString() ? o[k].GetString() : "";
}
double n(const rapidjson::Value& o, const char* k) { return o.HasMember(k) && o[k].IsNumber() ? o[k].GetDouble() : 0; }

}  // namespace

int cmd_show_accelerators(int argc, char** argv) {
    std::string cloud, region;
    po::options_description flags("Options");
    flags.add_options()("help,h", "show this help")("cloud", po::value(&cloud), "only this cloud (aws, gcp, ...)")(
        "region", po::value(&region), "only this region")("json", "print the catalogs as JSON, one per line");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, flags), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "llm-atc show-accelerators: %s\n", e.what());
        return 2;
    }
    if (vm.count("help")) {
        std::cout << "Usage: llm-atc show-accelerators [--cloud C] [--region R] [--json]\n\n"
                     "Lists what --accelerator NAME:COUNT can ask for on each cloud: instance types, GPUs and their\n"
                     "memory, vCPUs, RAM, the approximate on-demand hourly price per region, and the zones tried.\n"
                  << flags << "\n";
        return 0;
    }
    try {
        const auto& registry = PluginRegistry::instance();
        std::vector<const PluginRecord*> clouds;
        std::vector<std::string> names;
        for (const auto& p : registry.plugins())
            if (p.kind == LLMATC_PLUGIN_CLOUD_PROVIDER) {
                names.push_back(p.name);
                if (cloud.empty() ? p.name != "local" : p.name == cloud) clouds.push_back(&p);
            }
        if (clouds.empty())
            throw Error(LLMATC_ERR_NOT_FOUND, "no cloud provider named '" + cloud + "'; available: " +
                                                  (names.empty() ? "none (check LLMATC_PLUGIN_PATH)" : join(names)));
        for (const PluginRecord* p : clouds) {
            const std::string text = catalog_text(*p);
            if (vm.count("json")) {
                std::printf("%s\n", text.c_str());
                continue;
            }
            rapidjson::Document doc;
            doc.Parse(text.c_str());
            if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("offers") || !doc["offers"].IsArray())
                throw Error(LLMATC_ERR_CORRUPT, "cloud '" + p->name + "' returned a catalog that is not the documented JSON");
            std::set<std::string> regions;
            if (doc.HasMember("regions") && doc["regions"].IsObject())
                for (const auto& r : doc["regions"].GetObject()) regions.insert(r.name.GetString());
            if (!region.empty() && !regions.empty() && !regions.count(region))
                throw Error(LLMATC_ERR_INVALID_ARGUMENT, "cloud '" + p->name + "' has no region '" + region +
                                                             "'; its regions: " + join({regions.begin(), regions.end()}));
            std::printf("%s — %s (prices as of %s, %s; %s)\n", p->name.c_str(), p->description.c_str(),
                        s(doc, "date").c_str(), s(doc, "currency").c_str(), s(doc, "source").c_str());
            std::printf("  %-11s %5s  %-16s %8s %6s %8s  %-16s %9s  %s\n", "ACCELERATOR", "COUNT", "INSTANCE_TYPE",
                        "GPU_MEM", "VCPUS", "RAM_GIB", "REGION", "USD/HOUR", "ZONES");
            for (const auto& o : doc["offers"].GetArray()) {
                if (!region.empty() && s(o, "region") != region) continue;
                std::vector<std::string> zones;
                if (o.HasMember("zones") && o["zones"].IsArray())
                    for (const auto& z : o["zones"].GetArray())
                        if (z.IsString()) zones.emplace_back(z.GetString());
                std::printf("  %-11s %5d  %-16s %5g GiB %6d %8g  %-16s %9.3f  %s\n", s(o, "accelerator").c_str(),
                            static_cast<int>(n(o, "count")), s(o, "instance_type").c_str(), n(o, "gpu_memory_gib"),
                            static_cast<int>(n(o, "vcpus")), n(o, "memory_gib"), s(o, "region").c_str(),
                            n(o, "hourly_price"), join(zones, " ").c_str());
            }
            std::printf("\n");
        }
        std::printf("--accelerator NAME:COUNT takes the cheapest type with exactly COUNT GPUs in the region, else the\n"
                    "smallest that holds COUNT (said in the plan: `llm-atc serve ... --dryrun`).\n");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llm-atc show-accelerators: %s\n", e.what());
        return 1;
    }
}

}  // namespace llmatc::cli
