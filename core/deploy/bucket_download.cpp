// core/deploy/bucket_download.cpp — mirrors bucket listings into the local cache.
#include "deploy/bucket_download.h"

#include <fstream>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>

#include "deploy/model_source.h"
#include "deploy/paths.h"
#include "util/error.h"

namespace llmatc::deploy {

namespace fs = std::filesystem;

namespace {

const char* kManifest = ".llm-atc-etags";  // lines of "<etag>\t<relative path>"

std::map<std::string, std::string> read_manifest(const fs::path& dir) {
    std::map<std::string, std::string> m;
    std::ifstream in(dir / kManifest);
    std::string line;
    while (std::getline(in, line)) {
        auto tab = line.find('\t');
        if (tab != std::string::npos) m[line.substr(tab + 1)] = line.substr(0, tab);
    }
    return m;
}

}  // namespace

void mirror_objects(const std::vector<ListedObject>& objects, const fs::path& dir, const std::string& url,
                    const std::function<http::HttpRequest(const ListedObject&, uint64_t)>& request_for) {
    std::vector<std::string> names;
    std::map<std::string, const ListedObject*> by_name;
    for (const auto& o : objects) {
        if (o.relative.empty() || o.relative.back() == '/') continue;  // folder placeholder objects
        if (o.relative.find("..") != std::string::npos || o.relative[0] == '/')
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, url + ": object '" + o.key + "' would land outside the cache folder");
        names.push_back(o.relative);
        by_name[o.relative] = &o;
    }
    const auto wanted = select_serving_files(names);
    if (wanted.empty()) throw Error(LLMATC_ERR_NOT_FOUND, "no model files under " + url + " (is the prefix right?)");
    make_private_dir(dir);
    auto manifest = read_manifest(dir);
    int fetched = 0;
    for (const auto& name : wanted) {
        const ListedObject& o = *by_name.at(name);
        const fs::path dest = dir / name;
        std::error_code ec;
        const bool same_size = fs::exists(dest) && (o.size < 0 || static_cast<int64_t>(fs::file_size(dest, ec)) == o.size);
        if (same_size && manifest.count(name) && manifest[name] == o.etag) continue;
        if (fs::exists(dest)) fs::remove(dest);
        download_resumable([&](uint64_t offset) { return request_for(o, offset); }, dest, o.expected, name);
        manifest[name] = o.etag;
        ++fetched;
    }
    std::string text;
    for (const auto& [name, etag] : manifest) text += etag + "\t" + name + "\n";
    write_file_atomically(dir / kManifest, text, 0600);
    spdlog::info("{}: {} file(s) downloaded, {} already cached, in {}", url, fetched, wanted.size() - fetched, dir.string());
}

}  // namespace llmatc::deploy
