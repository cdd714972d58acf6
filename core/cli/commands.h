// core/cli/commands.h — the launcher's subcommands; each lives in its own cmd_<name>.cpp and takes argv after the name.
#pragma once

namespace llmatc::cli {

// Each returns the process exit code. argv[0] is the subcommand's name.
int cmd_serve(int argc, char** argv);       // serve a model here (foreground) or on a cluster
int cmd_generate(int argc, char** argv);    // one prompt in, its continuation out
int cmd_plugins(int argc, char** argv);     // list discovered plugins
int cmd_status(int argc, char** argv);      // list clusters
int cmd_stop(int argc, char** argv);        // stop a cluster (keep its disk/state)
int cmd_start(int argc, char** argv);       // start a stopped cluster
int cmd_down(int argc, char** argv);        // tear a cluster down
int cmd_logs(int argc, char** argv);        // print a cluster's server log
int cmd_show_accelerators(int argc, char** argv);  // print the clouds' accelerator catalogs

}  // namespace llmatc::cli
