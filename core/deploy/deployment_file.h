// core/deploy/deployment_file.h — `llm-atc serve -f deploy.yaml`: a deployment as a YAML file, in the spirit of
// SkyPilot's task YAML. Keys are ServeOptions' fields, spelled as the flags are (dashes or underscores alike):
//
//   name: llm-atc/myvicuna            # --name
//   source: s3://my-bucket/my_vicuna/ # --source
//   cluster: servecluster             # -c/--cluster
//   resources: {cloud: gcp, region: asia-southeast1, zone: "", accelerators: "A100:1"}   # or flat keys
//   envs: {HF_TOKEN: hf_...}          # a mapping, or a string as --envs takes it
//   port: 8000
//   idle-minutes-to-autostop: 30
//
// A key that is not known is refused naming it, its line, and the closest known key.
#pragma once

#include <string>

#include "cli/serve_options.h"

namespace llmatc::deploy {

// Sets in `options` every field the file names, and nothing else. Call it on defaults before applying the command
// line's flags, so that flags override the file. Throws llmatc::Error(INVALID_ARGUMENT) with a one-line
// "<file>:<line>: ..." message for a wrong key, a wrong type or a value out of range; NOT_FOUND when the file is
// missing.
void apply_deployment_file(const std::string& path, cli::ServeOptions& options);

// The same, from YAML text; `file_label` names it in messages.
void apply_deployment_yaml(const std::string& yaml_text, const std::string& file_label, cli::ServeOptions& options);

}  // namespace llmatc::deploy
