// core/deploy/model_source.cpp — classifying model names and sources, the serving-file filter, and dispatch.
#include "deploy/model_source.h"

#include <algorithm>
#include <regex>

#include "cloud_auth/aws_credentials.h"
#include "deploy/paths.h"
#include "util/error.h"

namespace llmatc::deploy {

namespace fs = std::filesystem;

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_training_leftover(const std::string& path) {
    const std::string base = basename_of(path);
    if (starts_with(base, "train") || starts_with(base, "optimizer") || starts_with(base, "scheduler") ||
        starts_with(base, "rng_state") || base == "zero_to_fp32.py")
        return true;
    // Folders written by trainers: checkpoint-500/, global_step100/, runs/ (TensorBoard).
    std::string dir = path;
    for (auto slash = dir.find('/'); slash != std::string::npos; slash = dir.find('/')) {
        const std::string part = dir.substr(0, slash);
        if (starts_with(part, "checkpoint-") || starts_with(part, "global_step") || part == "runs") return true;
        dir = dir.substr(slash + 1);
    }
    return false;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<std::string> select_serving_files(const std::vector<std::string>& paths) {
    const bool has_safetensors =
        std::any_of(paths.begin(), paths.end(), [](const std::string& p) { return ends_with(p, ".safetensors"); });
    std::vector<std::string> keep;
    for (const auto& p : paths) {
        if (p.empty() || ends_with(p, "/") || is_training_leftover(p)) continue;
        if (has_safetensors && (ends_with(p, ".bin") || ends_with(p, ".pt") || ends_with(p, ".pth") ||
                                ends_with(p, ".h5") || ends_with(p, ".msgpack") || ends_with(p, ".onnx") ||
                                ends_with(p, ".gguf") || ends_with(p, ".ot") || ends_with(p, ".bin.index.json")))
            continue;
        keep.push_back(p);
    }
    return keep;
}

std::pair<std::string, std::string> split_bucket_url(const std::string& url, const std::string& scheme) {
    const std::string head = scheme + "://";
    if (!starts_with(url, head)) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "'" + url + "' is not a " + head + " URL");
    const std::string rest = url.substr(head.size());
    const auto slash = rest.find('/');
    const std::string bucket = rest.substr(0, slash);
    static const std::regex bucket_re("[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]");
    if (!std::regex_match(bucket, bucket_re))
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "'" + url + "': '" + bucket +
                                                     "' is not a valid bucket name (3-63 lowercase letters, digits, "
                                                     "'.', '-'); write " + head + "BUCKET/PREFIX/");
    std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');
    if (prefix.find("..") != std::string::npos || starts_with(prefix, "/"))
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "'" + url + "': the prefix must not contain '..' or start with '/'");
    return {bucket, prefix};
}

fs::path bucket_cache_dir(const std::string& scheme, const std::string& bucket, const std::string& prefix,
                          const std::map<std::string, std::string>& env) {
    fs::path home;
    if (auto it = env.find("LLMATC_HOME"); it != env.end() && !it->second.empty()) home = it->second;
    else home = llmatc_home();
    fs::path dir = home / "models" / scheme / bucket;
    if (!prefix.empty()) dir /= prefix.substr(0, prefix.size() - 1);
    return dir;
}

ModelLocation classify_model(const std::string& name, const std::string& source) {
    if (name.empty()) throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--name is required: a Hugging Face id, a local folder, "
                                                               "or llm-atc/<name> with --source");
    if (starts_with(name, "llm-atc/") && source.empty())
        throw Error(LLMATC_ERR_INVALID_ARGUMENT, "'" + name + "' names a private model: add --source s3://BUCKET/PREFIX/, "
                                                 "gs://BUCKET/PREFIX/ or a local folder");
    if (!source.empty()) {
        if (starts_with(source, "s3://")) {
            split_bucket_url(source, "s3");
            return {SourceKind::S3, source, ""};
        }
        if (starts_with(source, "gs://")) {
            split_bucket_url(source, "gs");
            return {SourceKind::GCS, source, ""};
        }
        if (source.find("://") != std::string::npos)
            throw Error(LLMATC_ERR_INVALID_ARGUMENT, "--source '" + source + "': supported are s3://, gs:// and local folders");
        if (!fs::is_directory(source))
            throw Error(LLMATC_ERR_NOT_FOUND, "--source '" + source + "' is not a folder");
        return {SourceKind::LocalDir, fs::absolute(source).lexically_normal().string(), ""};
    }
    if (fs::is_directory(name)) return {SourceKind::LocalDir, fs::absolute(name).lexically_normal().string(), ""};
    static const std::regex hf_id("([A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._/-]+)?");
    if (starts_with(name, ".") || starts_with(name, "/") || name.find("--") != std::string::npos ||
        !std::regex_match(name, hf_id))
        throw Error(LLMATC_ERR_NOT_FOUND, "--name '" + name + "' is neither a folder nor a Hugging Face id (org/name)");
    const auto at = name.find('@');
    return {SourceKind::HuggingFace, name.substr(0, at), at == std::string::npos ? "main" : name.substr(at + 1)};
}

fs::path fetch_model(const ModelLocation& where, const std::map<std::string, std::string>& env) {
    switch (where.kind) {
        case SourceKind::LocalDir: return where.location;
        case SourceKind::HuggingFace: return fetch_hf_model(where.location, where.revision, env);
        case SourceKind::S3: return fetch_s3_prefix(where.location, env);
        case SourceKind::GCS: return fetch_gcs_prefix(where.location, env);
    }
    throw Error(LLMATC_ERR_INTERNAL, "unknown model source kind");
}

fs::path resolve_model_dir(const std::string& name, const std::string& source) {
    return fetch_model(classify_model(name, source), cloud_auth::process_environment());
}

}  // namespace llmatc::deploy
