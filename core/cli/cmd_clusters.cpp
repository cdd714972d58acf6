// core/cli/cmd_clusters.cpp — `llm-atc status | stop | start | down | logs`: the cluster commands over core/deploy.
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "deploy/cluster_lifecycle.h"
#include "util/error.h"
#include "util/log.h"

namespace llmatc::cli {

namespace po = boost::program_options;

namespace {

struct Parsed {
    po::variables_map vm;
    std::vector<std::string> names;
    bool help = false;
};

// Parses `argv` (argv[0] is the command, skipped by the parser) with `options` plus positional cluster names. Throws on bad flags.
Parsed parse(int argc, char** argv, po::options_description options) {
    options.add_options()("help,h", "show this help");
    po::options_description all;
    all.add(options).add_options()("names", po::value<std::vector<std::string>>(), "cluster names");
    po::positional_options_description positional;
    positional.add("names", -1);
    Parsed p;
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), p.vm);
    po::notify(p.vm);
    p.help = p.vm.count("help") > 0;
    if (p.vm.count("names")) p.names = p.vm["names"].as<std::vector<std::string>>();
    return p;
}

// Runs a command body with the launcher's error conventions: one actionable line on stderr, non-zero exit.
template <typename F>
int run_command(const char* command, F&& body) {
    try {
        return body();
    } catch (const po::error& e) {
        std::fprintf(stderr, "llm-atc %s: %s (see llm-atc %s --help)\n", command, e.what(), command);
        return 2;
    } catch (const Error& e) {
        std::fprintf(stderr, "llm-atc %s: %s\n", command, e.what());
        return e.status() == LLMATC_ERR_INVALID_ARGUMENT ? 2 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llm-atc %s: %s\n", command, e.what());
        return 1;
    }
}

std::string age(int64_t launched_at) {
    if (launched_at <= 0) return "-";
    const int64_t s = static_cast<int64_t>(std::time(nullptr)) - launched_at;
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return std::to_string(s / 60) + "m";
    if (s < 86400) return std::to_string(s / 3600) + "h";
    return std::to_string(s / 86400) + "d";
}

void print_json(const std::vector<deploy::ClusterRow>& rows) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& r : rows) {
        w.StartObject();
        w.Key("name"); w.String(r.name.c_str());
        w.Key("status"); w.String(r.status.c_str());
        w.Key("cloud"); w.String(r.cloud.c_str());
        w.Key("region"); w.String(r.region.c_str());
        w.Key("zone"); w.String(r.zone.c_str());
        w.Key("ip"); w.String(r.ip.c_str());
        w.Key("port"); w.Int(r.port);
        w.Key("endpoint"); w.String(deploy::endpoint_of(r).c_str());
        w.Key("model"); w.String(r.model.c_str());
        w.Key("accelerator"); w.String(r.accelerator.c_str());
        w.Key("instance_ids");
        w.StartArray();
        for (const auto& id : r.instance_ids) w.String(id.c_str());
        w.EndArray();
        w.Key("launched_at"); w.Int64(r.launched_at);
        w.Key("autostop_minutes"); w.Int(r.autostop_minutes);
        w.Key("api_key_set"); w.Bool(!r.api_key_hash.empty());
        w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", buf.GetString());
}

void print_table(const std::vector<deploy::ClusterRow>& rows) {
    if (rows.empty()) {
        std::printf("No clusters. Launch one with: llm-atc serve -c NAME --cloud local --name MODEL\n");
        return;
    }
    std::printf("%-20s %-6s %-16s %-22s %-8s %-32s %s\n", "NAME", "CLOUD", "REGION", "RESOURCES", "STATUS", "ENDPOINT", "AGE");
    for (const auto& r : rows) {
        const std::string resources = r.accelerator.empty() ? "CPU" : r.accelerator;
        const std::string endpoint = deploy::endpoint_of(r);
        std::printf("%-20s %-6s %-16s %-22s %-8s %-32s %s\n", r.name.c_str(), r.cloud.c_str(),
                    r.region.empty() ? "-" : r.region.c_str(), resources.c_str(), r.status.c_str(),
                    endpoint.empty() ? "-" : endpoint.c_str(), age(r.launched_at).c_str());
    }
}

// stop/start/down share this shape: at least one name, each acted on in turn, first failure decides the exit code.
int for_each_cluster(int argc, char** argv, const char* command, const char* summary,
                     std::string (*act)(const std::string&)) {
    return run_command(command, [&] {
        po::options_description opts(std::string("llm-atc ") + command + " NAME... — " + summary);
        Parsed p = parse(argc, argv, opts);
        if (p.help) {
            std::cout << opts << "\n";
            return 0;
        }
        if (p.names.empty())
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, std::string("name the cluster(s): llm-atc ") + command + " NAME");
        int rc = 0;
        for (const auto& name : p.names) {
            try {
                std::printf("%s\n", act(name).c_str());
                std::fflush(stdout);
            } catch (const Error& e) {
                std::fprintf(stderr, "llm-atc %s: %s\n", command, e.what());
                rc = rc ? rc : 1;
            }
        }
        return rc;
    });
}

}  // namespace

int cmd_status(int argc, char** argv) {
    return run_command("status", [&] {
        po::options_description opts("llm-atc status [NAME...] — clusters, their status and endpoints");
        opts.add_options()("json", "print a JSON array of clusters")(
            "ip", po::value<std::string>(), "print only the IP address of cluster NAME");
        Parsed p = parse(argc, argv, opts);
        if (p.help) {
            std::cout << opts << "\n";
            return 0;
        }
        if (p.vm.count("ip")) {
            const auto rows = deploy::refreshed_clusters({p.vm["ip"].as<std::string>()});
            if (rows.front().ip.empty())
                throw Error(LLMATC_ERR_UNAVAILABLE, "cluster '" + rows.front().name + "' has no address (status " +
                                                        rows.front().status + ")");
            std::printf("%s\n", rows.front().ip.c_str());
            return 0;
        }
        const auto rows = deploy::refreshed_clusters(p.names);
        if (p.vm.count("json")) print_json(rows);
        else print_table(rows);
        return 0;
    });
}

int cmd_stop(int argc, char** argv) {
    return for_each_cluster(argc, argv, "stop", "stop clusters (state and caches are kept)", deploy::stop_cluster);
}

int cmd_start(int argc, char** argv) {
    return for_each_cluster(argc, argv, "start", "start stopped clusters again", deploy::start_cluster);
}

int cmd_down(int argc, char** argv) {
    return for_each_cluster(argc, argv, "down", "tear clusters down and forget them", deploy::down_cluster);
}

int cmd_logs(int argc, char** argv) {
    return run_command("logs", [&] {
        po::options_description opts("llm-atc logs NAME — print a cluster's server log");
        opts.add_options()("tail,n", po::value<size_t>(), "only the last N lines");
        Parsed p = parse(argc, argv, opts);
        if (p.help) {
            std::cout << opts << "\n";
            return 0;
        }
        if (p.names.size() != 1) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "name one cluster: llm-atc logs NAME");
        const auto path = deploy::cluster_log_path(p.names[0]);
        std::ifstream in(path);
        if (!in) throw Error(LLMATC_ERR_NOT_FOUND, "cluster '" + p.names[0] + "' has no server log yet (" + path.string() + ")");
        const auto secrets = deploy::cluster_secrets(p.names[0]);
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        size_t first = 0;
        if (p.vm.count("tail") && p.vm["tail"].as<size_t>() < lines.size()) first = lines.size() - p.vm["tail"].as<size_t>();
        // The server never logs --envs values; masking here is the second guard, for anything that slipped through.
        for (size_t i = first; i < lines.size(); ++i) std::printf("%s\n", mask_secrets(lines[i], secrets).c_str());
        return 0;
    });
}

}  // namespace llmatc::cli
