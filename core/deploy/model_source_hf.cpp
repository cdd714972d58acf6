// core/deploy/model_source_hf.cpp — Hugging Face Hub models into huggingface_hub's cache layout
// (models--org--name/{blobs,snapshots/<commit>,refs}), so caches are shared with the Python tools both ways.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include "http/http_client.h"
#include "deploy/model_source.h"
#include "deploy/paths.h"
#include "deploy/resumable_download.h"
#include "util/error.h"

namespace llmatc::deploy {

namespace fs = std::filesystem;

namespace {

std::string get(const std::map<std::string, std::string>& env, const std::string& key) {
    auto it = env.find(key);
    return it == env.end() ? "" : it->second;
}

bool truthy(const std::string& v) {
    std::string s = v;
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s == "1" || s == "true" || s == "yes" || s == "on";
}

bool is_commit_hash(const std::string& s) {
    return s.size() == 40 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

fs::path hub_cache(const std::map<std::string, std::string>& env) {
    if (auto v = get(env, "HF_HUB_CACHE"); !v.empty()) return v;
    if (auto v = get(env, "HF_HOME"); !v.empty()) return fs::path(v) / "hub";
    if (auto v = get(env, "XDG_CACHE_HOME"); !v.empty()) return fs::path(v) / "huggingface" / "hub";
    return fs::path(get(env, "HOME")) / ".cache" / "huggingface" / "hub";
}

std::string hub_token(const std::map<std::string, std::string>& env) {
    if (auto v = get(env, "HF_TOKEN"); !v.empty()) return v;
    if (auto v = get(env, "HUGGING_FACE_HUB_TOKEN"); !v.empty()) return v;
    const fs::path token_file = !get(env, "HF_TOKEN_PATH").empty() ? fs::path(get(env, "HF_TOKEN_PATH"))
                                : !get(env, "HF_HOME").empty() ? fs::path(get(env, "HF_HOME")) / "token"
                                : fs::path(get(env, "HOME")) / ".cache" / "huggingface" / "token";
    std::ifstream in(token_file);
    std::string token;
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    return token;
}

// The ETag as huggingface_hub names blobs: X-Linked-Etag (LFS: the SHA-256) else ETag, without W/ and quotes.
std::string normalize_etag(std::string etag) {
    if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    return etag;
}

[[noreturn]] void refuse(long status, const std::string& repo_id, const std::string& revision, bool have_token,
                         const std::string& endpoint) {
    if (status == 401 || status == 403) {
        if (have_token)
            throw Error(LLMATC_ERR_PERMISSION, "Hugging Face refused the token for '" + repo_id +
                                                   "' (HTTP " + std::to_string(status) +
                                                   "): accept the model's license on its Hub page with that account, "
                                                   "or use a token with read access");
        throw Error(LLMATC_ERR_PERMISSION, "'" + repo_id + "' is gated or private on the Hugging Face Hub (HTTP " +
                                               std::to_string(status) +
                                               "): a token is needed — accept its license on the Hub, then pass "
                                               "HF_TOKEN (e.g. --envs HF_TOKEN=...)");
    }
    if (status == 404)
        throw Error(LLMATC_ERR_NOT_FOUND, "no model '" + repo_id + "' at revision '" + revision + "' on " + endpoint);
    throw Error(LLMATC_ERR_IO, "the Hub at " + endpoint + " answered HTTP " + std::to_string(status) + " for '" +
                                   repo_id + "'");
}

fs::path offline_snapshot(const fs::path& repo_dir, const std::string& repo_id, const std::string& revision) {
    std::string commit = revision;
    if (!is_commit_hash(revision)) {
        std::ifstream ref(repo_dir / "refs" / revision);
        std::getline(ref, commit);
    }
    const fs::path snap = repo_dir / "snapshots" / commit;
    if (commit.empty() || !fs::is_directory(snap))
        throw Error(LLMATC_ERR_NOT_FOUND, "HF_HUB_OFFLINE is set and '" + repo_id + "' (revision " + revision +
                                              ") is not in the cache " + repo_dir.parent_path().string() +
                                              ": unset HF_HUB_OFFLINE to download it");
    return snap;
}

}  // namespace

fs::path fetch_hf_model(const std::string& repo_id, const std::string& revision,
                        const std::map<std::string, std::string>& env) {
    std::string repo_folder = "models--" + repo_id;
    for (size_t p; (p = repo_folder.find('/')) != std::string::npos;) repo_folder.replace(p, 1, "--");
    const fs::path repo_dir = hub_cache(env) / repo_folder;
    if (truthy(get(env, "HF_HUB_OFFLINE"))) return offline_snapshot(repo_dir, repo_id, revision);

    std::string endpoint = get(env, "HF_ENDPOINT").empty() ? "https://huggingface.co" : get(env, "HF_ENDPOINT");
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    const std::string token = hub_token(env);
    auto authed = [&](http::HttpRequest req) {
        if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
        return req;
    };

    http::HttpRequest info_req;
    info_req.url = endpoint + "/api/models/" + repo_id + "/revision/" + http::url_encode(revision, false);
    http::HttpResponse info;
    try {
        info = http::http_fetch(authed(info_req));
    } catch (const http::HttpTransportError& e) {
        // Like huggingface_hub: when the Hub is unreachable, a cached snapshot still serves.
        try {
            fs::path snap = offline_snapshot(repo_dir, repo_id, revision);
            spdlog::warn("the Hub is unreachable ({}); using the cached snapshot {}", e.what(), snap.string());
            return snap;
        } catch (const Error&) {
            throw Error(LLMATC_ERR_IO, std::string("cannot reach the Hugging Face Hub: ") + e.what());
        }
    }
    if (info.status != 200) refuse(info.status, repo_id, revision, !token.empty(), endpoint);
    rapidjson::Document doc;
    doc.Parse(info.body.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("sha") || !doc["sha"].IsString() ||
        !doc.HasMember("siblings") || !doc["siblings"].IsArray())
        throw Error(LLMATC_ERR_CORRUPT, "the Hub's model info for '" + repo_id + "' lacks 'sha' or 'siblings'");
    const std::string commit = doc["sha"].GetString();
    if (!is_commit_hash(commit))
        throw Error(LLMATC_ERR_CORRUPT, "the Hub's model info for '" + repo_id + "' has a malformed commit 'sha'");
    std::vector<std::string> names;
    for (const auto& s : doc["siblings"].GetArray())
        if (s.IsObject() && s.HasMember("rfilename") && s["rfilename"].IsString()) names.emplace_back(s["rfilename"].GetString());
    const auto wanted = select_serving_files(names);
    if (wanted.empty()) throw Error(LLMATC_ERR_NOT_FOUND, "'" + repo_id + "' has no model files at revision " + revision);

    const fs::path snapshot = repo_dir / "snapshots" / commit;
    for (const auto& name : wanted) {
        if (name.find("..") != std::string::npos || name[0] == '/')
            throw Error(LLMATC_ERR_CORRUPT, "the Hub lists a file name that leaves the snapshot: '" + name + "'");
        const fs::path link = snapshot / name;
        if (fs::exists(link)) continue;  // a valid symlink (or file) from us or from huggingface_hub
        const std::string file_url = endpoint + "/" + repo_id + "/resolve/" + commit + "/" + http::url_encode(name, true);
        http::HttpRequest head;
        head.method = "HEAD";
        head.url = file_url;
        head.follow_redirects = false;  // the first answer carries X-Linked-Etag / X-Linked-Size for LFS files
        http::HttpResponse meta;
        try {
            meta = http::http_fetch(authed(head));
        } catch (const http::HttpTransportError& e) {
            throw Error(LLMATC_ERR_IO, name + ": " + e.what());
        }
        if (meta.status >= 400) refuse(meta.status, repo_id, revision, !token.empty(), endpoint);
        std::string etag = normalize_etag(meta.headers.count("x-linked-etag") ? meta.headers["x-linked-etag"]
                                                                               : meta.headers["etag"]);
        if (etag.empty() || etag.find('/') != std::string::npos || etag.find("..") != std::string::npos)
            throw Error(LLMATC_ERR_CORRUPT, "the Hub sent no usable ETag for " + repo_id + "/" + name);
        ExpectedContent expected;
        const std::string size_text = meta.headers.count("x-linked-size") ? meta.headers["x-linked-size"]
                                      : meta.status < 300                 ? meta.headers["content-length"]
                                                                          : "";
        if (!size_text.empty()) expected.size = std::stoll(size_text);
        if (etag.size() == 64 && etag.find_first_not_of("0123456789abcdef") == std::string::npos) expected.sha256_hex = etag;
        const fs::path blob = repo_dir / "blobs" / etag;
        if (!fs::exists(blob)) {
            download_resumable([&](uint64_t) {
                http::HttpRequest get_req;
                get_req.url = file_url;
                return authed(get_req);
            }, blob, expected, name);
        }
        make_private_dir(link.parent_path());
        // snapshots/<commit>/<dirs...>/<file> → ../../(one more per dir)/blobs/<etag>, relative as huggingface_hub makes it.
        fs::path relative = fs::path("..") / "..";
        const fs::path name_path(name);
        for (auto it = name_path.begin(); std::next(it) != name_path.end(); ++it) relative /= "..";
        std::error_code ec;
        fs::remove(link, ec);  // a dangling link from an interrupted run
        fs::create_symlink(relative / "blobs" / etag, link);
    }
    if (revision != commit) write_file_atomically(repo_dir / "refs" / revision, commit, 0644);
    return snapshot;
}

}  // namespace llmatc::deploy
