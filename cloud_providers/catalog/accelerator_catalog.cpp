// cloud_providers/catalog/accelerator_catalog.cpp — parsing the catalog data files and choosing instance types.
#include "accelerator_catalog.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace llmatc::cloud_catalog {

extern const std::string_view kAwsCatalogJson;
extern const std::string_view kGcpCatalogJson;

namespace {

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out;
}

std::string required_string(const rapidjson::Value& o, const char* key, const std::string& where) {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsString())
        throw std::runtime_error(where + " lacks the string field \"" + key + "\"");
    return it->value.GetString();
}

double required_number(const rapidjson::Value& o, const char* key, const std::string& where) {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsNumber())
        throw std::runtime_error(where + " lacks the number field \"" + key + "\"");
    return it->value.GetDouble();
}

std::vector<std::string> string_array(const rapidjson::Value& v, const std::string& where) {
    if (!v.IsArray()) throw std::runtime_error(where + " is not an array of strings");
    std::vector<std::string> out;
    for (const auto& s : v.GetArray()) {
        if (!s.IsString()) throw std::runtime_error(where + " is not an array of strings");
        out.emplace_back(s.GetString());
    }
    return out;
}

std::string price_text(double usd) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "$%.2f/h", usd);
    return buf;
}

}  // namespace

Catalog parse_catalog(std::string_view json_text, const std::string& origin) {
    rapidjson::Document d;
    d.Parse(json_text.data(), json_text.size());
    if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("catalog " + origin + " is not a JSON object");
    Catalog c;
    c.cloud = required_string(d, "cloud", "catalog " + origin);
    c.source = required_string(d, "source", "catalog " + origin);
    c.date = required_string(d, "date", "catalog " + origin);
    c.currency = required_string(d, "currency", "catalog " + origin);
    auto regions = d.FindMember("regions");
    if (regions == d.MemberEnd() || !regions->value.IsObject())
        throw std::runtime_error("catalog " + origin + " lacks the object \"regions\"");
    for (const auto& r : regions->value.GetObject())
        c.regions[r.name.GetString()] = string_array(r.value, "catalog " + origin + " regions." + r.name.GetString());
    auto offers = d.FindMember("offers");
    if (offers == d.MemberEnd() || !offers->value.IsArray())
        throw std::runtime_error("catalog " + origin + " lacks the array \"offers\"");
    for (const auto& o : offers->value.GetArray()) {
        Offer f;
        const std::string where = "catalog " + origin + " offer " + std::to_string(c.offers.size());
        f.instance_type = required_string(o, "instance_type", where);
        f.accelerator = required_string(o, "accelerator", where);
        if (auto t = o.FindMember("accelerator_type"); t != o.MemberEnd() && t->value.IsString())
            f.accelerator_type = t->value.GetString();
        f.count = static_cast<int>(required_number(o, "count", where));
        f.gpu_memory_gib = required_number(o, "gpu_memory_gib", where);
        f.vcpus = static_cast<int>(required_number(o, "vcpus", where));
        f.memory_gib = required_number(o, "memory_gib", where);
        auto prices = o.FindMember("prices");
        if (prices == o.MemberEnd() || !prices->value.IsObject())
            throw std::runtime_error(where + " (" + f.instance_type + ") lacks the object \"prices\"");
        for (const auto& p : prices->value.GetObject()) {
            const std::string region = p.name.GetString();
            if (!c.regions.count(region))
                throw std::runtime_error(where + " (" + f.instance_type + ") prices region '" + region +
                                         "', which \"regions\" does not list");
            if (!p.value.IsNumber()) throw std::runtime_error(where + " price for " + region + " is not a number");
            f.prices[region] = p.value.GetDouble();
        }
        if (auto z = o.FindMember("zones"); z != o.MemberEnd() && z->value.IsObject())
            for (const auto& r : z->value.GetObject())
                f.zones[r.name.GetString()] = string_array(r.value, where + " zones");
        c.offers.push_back(std::move(f));
    }
    return c;
}

const Catalog& aws_catalog() {
    static const Catalog c = parse_catalog(kAwsCatalogJson, "aws_catalog.json");
    return c;
}

const Catalog& gcp_catalog() {
    static const Catalog c = parse_catalog(kGcpCatalogJson, "gcp_catalog.json");
    return c;
}

static std::vector<std::string> zones_of(const Catalog& c, const Offer& o, const std::string& region) {
    if (auto it = o.zones.find(region); it != o.zones.end()) return it->second;
    auto it = c.regions.find(region);
    return it == c.regions.end() ? std::vector<std::string>{} : it->second;
}

std::string catalog_abi_json(const Catalog& c) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("cloud"); w.String(c.cloud.c_str());
    w.Key("source"); w.String(c.source.c_str());
    w.Key("date"); w.String(c.date.c_str());
    w.Key("currency"); w.String(c.currency.c_str());
    w.Key("regions");
    w.StartObject();
    for (const auto& [r, zones] : c.regions) {
        w.Key(r.c_str());
        w.StartArray();
        for (const auto& z : zones) w.String(z.c_str());
        w.EndArray();
    }
    w.EndObject();
    w.Key("offers");
    w.StartArray();
    for (const auto& o : c.offers) {
        for (const auto& [region, price] : o.prices) {
            w.StartObject();
            w.Key("accelerator"); w.String(o.accelerator.c_str());
            w.Key("count"); w.Int(o.count);
            w.Key("instance_type"); w.String(o.instance_type.c_str());
            w.Key("gpu_memory_gib"); w.Double(o.gpu_memory_gib);
            w.Key("vcpus"); w.Int(o.vcpus);
            w.Key("memory_gib"); w.Double(o.memory_gib);
            w.Key("region"); w.String(region.c_str());
            w.Key("zones");
            w.StartArray();
            for (const auto& z : zones_of(c, o, region)) w.String(z.c_str());
            w.EndArray();
            w.Key("hourly_price"); w.Double(price);
            w.EndObject();
        }
    }
    w.EndArray();
    w.EndObject();
    return buf.GetString();
}

InstanceChoice choose_instance(const Catalog& c, const std::string& accelerator, int count, const std::string& region,
                               const std::string& zone) {
    const std::string cloud = c.cloud;
    if (count < 1) throw CatalogError(cloud + ": accelerator count must be at least 1 (write NAME:COUNT, e.g. A100:1)");
    if (!c.regions.count(region)) {
        std::vector<std::string> names;
        for (const auto& [r, _] : c.regions) names.push_back(r);
        throw CatalogError(cloud + ": unknown region '" + region + "'; valid regions: " + join(names));
    }
    std::set<std::string> known_accelerators, here_accelerators;
    std::vector<const Offer*> candidates;
    for (const auto& o : c.offers) {
        known_accelerators.insert(o.accelerator);
        if (o.prices.count(region)) here_accelerators.insert(o.accelerator);
        if (upper(o.accelerator) == upper(accelerator) && o.prices.count(region)) candidates.push_back(&o);
    }
    if (!known_accelerators.count(accelerator)) {
        // Case-insensitive match of a known name is fine; anything else is refused with the list.
        bool known = false;
        for (const auto& a : known_accelerators) known = known || upper(a) == upper(accelerator);
        if (!known)
            throw CatalogError(cloud + ": unknown accelerator '" + accelerator + "'; valid accelerators: " +
                               join({known_accelerators.begin(), known_accelerators.end()}));
    }
    if (candidates.empty()) {
        std::vector<std::string> regions_with;
        for (const auto& o : c.offers)
            if (upper(o.accelerator) == upper(accelerator))
                for (const auto& [r, _] : o.prices)
                    if (std::find(regions_with.begin(), regions_with.end(), r) == regions_with.end()) regions_with.push_back(r);
        throw CatalogError(cloud + ": " + accelerator + " is not offered in " + region + "; regions with it: " +
                           join(regions_with) + "; accelerators in " + region + ": " +
                           join({here_accelerators.begin(), here_accelerators.end()}));
    }
    // Exact count first (cheapest), else the smallest count that holds it (cheapest of those).
    const Offer* best = nullptr;
    int max_count = 0;
    for (const Offer* o : candidates) max_count = std::max(max_count, o->count);
    for (int pass = 0; pass < 2 && !best; ++pass) {
        int best_count = std::numeric_limits<int>::max();
        for (const Offer* o : candidates) {
            if (pass == 0 ? o->count != count : o->count < count) continue;
            const double p = o->prices.at(region);
            if (!best || o->count < best_count || (o->count == best_count && p < best->prices.at(region))) {
                best = o;
                best_count = o->count;
            }
        }
    }
    if (!best)
        throw CatalogError(cloud + ": no instance type in " + region + " has " + std::to_string(count) + " " +
                           accelerator + " GPUs; the most is " + std::to_string(max_count));
    InstanceChoice choice;
    choice.offer = *best;
    choice.region = region;
    choice.hourly_price = best->prices.at(region);
    const std::vector<std::string> zones = zones_of(c, *best, region);
    if (zone.empty()) {
        choice.zones = zones;
    } else if (std::find(zones.begin(), zones.end(), zone) != zones.end()) {
        choice.zones = {zone};
    } else {
        throw CatalogError(cloud + ": zone '" + zone + "' is not one where " + best->instance_type + " is offered in " +
                           region + "; valid zones: " + join(zones));
    }
    if (best->count != count)
        choice.note = "no " + c.cloud + " instance type in " + region + " has exactly " + std::to_string(count) + " " +
                      best->accelerator + "; " + best->instance_type + " has " + std::to_string(best->count) +
                      " (" + price_text(choice.hourly_price) + "), the smallest that holds " + std::to_string(count);
    return choice;
}

}  // namespace llmatc::cloud_catalog
