// core/deploy/model_source.h — turns what the user named (--name, --source) into a local checkpoint folder:
// a local directory as is; Hugging Face ids, s3:// and gs:// prefixes downloaded into a cache first.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace llmatc::deploy {

enum class SourceKind { LocalDir, HuggingFace, S3, GCS };

struct ModelLocation {
    SourceKind kind;
    std::string location;  // the folder, the HF id, or the s3:// / gs:// URL
    std::string revision;  // HF only: branch, tag or commit ("main" unless the id ends in @rev)
};

// Decides where the model comes from. `llm-atc/<x>` names need a source (refused otherwise, saying to add
// --source); a source, when given, wins; else an existing folder, else a Hugging Face id ("org/name[@rev]").
// Throws llmatc::Error(INVALID_ARGUMENT) with a one-line message for anything else (bad URL, missing folder).
ModelLocation classify_model(const std::string& name, const std::string& source);

// Makes the model available locally and returns its folder. `env` is the environment to consult (the process's,
// merged with --envs): HF_TOKEN, HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE, AWS_*, GOOGLE_*,
// STORAGE_EMULATOR_HOST, LLMATC_HOME. Downloads show a progress bar on stderr.
std::filesystem::path fetch_model(const ModelLocation& where, const std::map<std::string, std::string>& env);

// Convenience for `serve` (foreground too): classify + fetch, with the process environment.
std::filesystem::path resolve_model_dir(const std::string& name, const std::string& source);

// Files a server does not need: training leftovers (optimizer/scheduler/RNG states, train*, trainer checkpoints)
// and, when safetensors weights are present, duplicate weight formats (.bin, .pt, .h5, .msgpack, .onnx, GGUF).
std::vector<std::string> select_serving_files(const std::vector<std::string>& relative_paths);

// Per-source fetchers (model_source_*.cpp); each returns the local folder.
std::filesystem::path fetch_hf_model(const std::string& repo_id, const std::string& revision,
                                     const std::map<std::string, std::string>& env);
std::filesystem::path fetch_s3_prefix(const std::string& url, const std::map<std::string, std::string>& env);
std::filesystem::path fetch_gcs_prefix(const std::string& url, const std::map<std::string, std::string>& env);

// (bucket, prefix) of "s3://bucket/prefix/" or "gs://bucket/prefix/"; the prefix ends with "/" or is empty.
// Throws llmatc::Error(INVALID_ARGUMENT) naming the URL when the bucket is missing or malformed.
std::pair<std::string, std::string> split_bucket_url(const std::string& url, const std::string& scheme);

// Where downloads of s3:// and gs:// land: <LLMATC_HOME>/models/<scheme>/<bucket>/<prefix>.
std::filesystem::path bucket_cache_dir(const std::string& scheme, const std::string& bucket, const std::string& prefix,
                                       const std::map<std::string, std::string>& env);

}  // namespace llmatc::deploy
