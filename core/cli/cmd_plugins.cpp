// core/cli/cmd_plugins.cpp — `llm-atc plugins`: lists the plugins found (table or JSON) and the files that failed.
#include <cstdio>
#include <exception>
#include <sstream>
#include <string>

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "cli/commands.h"
#include "plugin_registry/plugin_discovery.h"
#include "plugin_registry/plugin_loading.h"
#include "plugin_registry/plugin_registry.h"

namespace llmatc::cli {

namespace po = boost::program_options;

namespace {

// The help text; {} is the configured install directory.
constexpr const char* kUsage =
    "Usage: llm-atc plugins [--json] [--all]\n"
    "\n"
    "Lists the plugins llm-atc finds: model architectures, protocol frontends and cloud providers.\n"
    "Files that could not be used (wrong ABI version, missing entry symbol, failing entry) are listed after the\n"
    "plugins, on stderr, with the file and the reason; the exit code is 0 whenever the search itself ran.\n"
    "\n"
    "Search order (the first file of a given kind and name wins):\n"
    "  1. LLMATC_PLUGIN_PATH      colon-separated directories\n"
    "  2. the build tree          models/, frontends/, cloud_providers/ and plugins/ of the meson build directory\n"
    "                             holding this executable (when it runs from one)\n"
    "  3. the install directory   {}\n"
    "                             (and the same directory relative to this executable)\n"
    "Plugin files are named libllmatc-<model|frontend|cloud>-<name>.so.\n"
    "\n"
    "Options:\n";

std::string usage(const po::options_description& options) {
    std::ostringstream text;
    text << fmt::format(kUsage, configured_plugin_install_dir().string()) << options;
    return text.str();
}

void write_string_field(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void print_json(const PluginRegistry& registry, bool all) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartArray();
    for (const auto& p : registry.plugins()) {
        w.StartObject();
        write_string_field(w, "kind", plugin_kind_display_name(p.kind));
        write_string_field(w, "name", p.name);
        write_string_field(w, "version", p.version);
        write_string_field(w, "path", p.path.string());
        write_string_field(w, "description", p.description);
        if (all) {
            write_string_field(w, "status", "loaded");
            write_string_field(w, "abi_version", abi_version_string(p.abi_version));
        }
        w.EndObject();
    }
    if (all) {
        for (const auto& s : registry.shadowed()) {
            w.StartObject();
            write_string_field(w, "kind", plugin_kind_display_name(s.kind));
            write_string_field(w, "name", s.name);
            w.Key("version");
            w.Null();  // never opened, so its version is unknown
            write_string_field(w, "path", s.path.string());
            write_string_field(w, "description", "");
            write_string_field(w, "status", "shadowed");
            write_string_field(w, "shadowed_by", s.shadowed_by.string());
            w.EndObject();
        }
    }
    w.EndArray();
    std::printf("%s\n", buffer.GetString());
}

void print_table(const PluginRegistry& registry, bool all) {
    size_t kind_w = 4, name_w = 4, version_w = 7;
    auto widen = [](size_t& w, size_t n) { w = n > w ? n : w; };
    for (const auto& p : registry.plugins()) {
        widen(kind_w, std::string(plugin_kind_display_name(p.kind)).size());
        widen(name_w, p.name.size());
        widen(version_w, p.version.size());
    }
    if (all)
        for (const auto& s : registry.shadowed()) {
            widen(kind_w, std::string(plugin_kind_display_name(s.kind)).size());
            widen(name_w, s.name.size());
        }
    std::string out = fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", "KIND", kind_w, "NAME", name_w, "VERSION", version_w,
                                  "PATH");
    for (const auto& p : registry.plugins())
        out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", plugin_kind_display_name(p.kind), kind_w, p.name, name_w,
                           p.version, version_w, p.path.string());
    if (all)
        for (const auto& s : registry.shadowed())
            out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {} (shadowed by {})\n", plugin_kind_display_name(s.kind),
                               kind_w, s.name, name_w, "-", version_w, s.path.string(), s.shadowed_by.string());
    if (registry.plugins().empty()) out += "(no plugins found)\n";
    std::fputs(out.c_str(), stdout);
    if (all) {
        std::string searched = "\nSearched:\n";
        for (const auto& d : registry.search_dirs())
            searched += fmt::format("  {} ({}{})\n", d.dir.string(), d.origin, d.recursive ? ", recursive" : "");
        std::fputs(searched.c_str(), stdout);
    }
}

}  // namespace

int cmd_plugins(int argc, char** argv) {
    po::options_description options;
    options.add_options()
        ("json", "print a JSON array of objects {kind, name, version, path, description} instead of a table")
        ("all", "also list shadowed files (a later file with the kind and name of one already found; JSON: "
                "\"status\": \"shadowed\" and \"shadowed_by\") and, in the table, the directories searched")
        ("help,h", "show this help");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv)  // skips argv[0], the subcommand's name
                      .options(options).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "llm-atc plugins: %s\n\n%s", e.what(), usage(options).c_str());
        return 2;
    }
    if (vm.count("help")) {
        std::fputs(usage(options).c_str(), stdout);
        return 0;
    }
    const bool all = vm.count("all") > 0;

    // Its own registry rather than PluginRegistry::instance(): problems are printed below, not logged as warnings.
    PluginRegistry registry(default_plugin_search_dirs());
    if (vm.count("json"))
        print_json(registry, all);
    else
        print_table(registry, all);
    std::fflush(stdout);

    if (!registry.problems().empty()) {
        std::string out = fmt::format("\n{} plugin file(s) could not be used:\n", registry.problems().size());
        for (const auto& p : registry.problems()) out += fmt::format("  {}\n", p.message);
        std::fputs(out.c_str(), stderr);
    }
    return 0;
}

}  // namespace llmatc::cli
