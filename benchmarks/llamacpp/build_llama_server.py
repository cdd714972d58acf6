"""benchmarks/llamacpp/build_llama_server.py — builds llama.cpp's own C++ server (llama-server) for the serving comparison.

llama-cpp-python's OpenAI server runs one request at a time (one Llama object behind a lock). llama.cpp's C++ server
has parallel slots and continuous batching, which is what issue 6's serving comparison asks for ("llama.cpp's server
with as many parallel slots"). It is not on PyPI as a binary, but llama-cpp-python's source distribution vendors the
whole llama.cpp tree: this script downloads that sdist from PyPI (the same version as the installed llama-cpp-python,
so both comparisons run the same llama.cpp), builds only the llama-server target with CMake (native CPU flags without AMX, as
scripts/setup.sh builds llama-cpp-python; no web UI, no curl), and prints the binary's path. The result is cached: a second run
prints the path at once.

Usage: build_llama_server.py [--cache DIR] [--version X.Y.Z] [--jobs N]
Needs: cmake, a C/C++ compiler, pip (for the download). Takes about 10 minutes on 2 cores.
"""
import argparse
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def installed_version():
    try:
        import llama_cpp
    except ImportError:
        raise SystemExit("build_llama_server: llama-cpp-python is not installed here; pass --version")
    return llama_cpp.__version__


def run(cmd, log):
    print("build_llama_server: " + " ".join(map(str, cmd)), file=sys.stderr)
    with open(log, "ab") as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = pathlib.Path(log).read_text(errors="replace")[-3000:]
        raise SystemExit(f"build_llama_server: {cmd[0]} failed ({result.returncode}); last lines of {log}:\n{tail}")


def build(version, cache, jobs):
    out_dir = cache / f"llama-server-{version}-noamx"
    binary = out_dir / "llama-server"
    if binary.is_file():
        return binary
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            raise SystemExit(f"build_llama_server: {tool} not found (apt-get install -y cmake g++)")
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / "build.log"
    with tempfile.TemporaryDirectory(prefix="llama-server-build-") as work:
        work = pathlib.Path(work)
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", "llama-cpp-python",
             f"llama-cpp-python=={version}", "-d", str(work)], log)
        sdists = list(work.glob("llama_cpp_python-*.tar.gz"))
        if len(sdists) != 1:
            raise SystemExit(f"build_llama_server: expected one llama_cpp_python sdist in {work}, found {sdists}")
        with tarfile.open(sdists[0]) as tar:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuse links and paths outside `work`
                tar.extractall(work, filter="data")
            else:
                for member in tar.getmembers():
                    if member.name.startswith("/") or ".." in pathlib.PurePosixPath(member.name).parts:
                        raise SystemExit(f"build_llama_server: unsafe path {member.name!r} in {sdists[0]}")
                tar.extractall(work)
        source = work / f"llama_cpp_python-{version}" / "vendor" / "llama.cpp"
        if not (source / "tools" / "server").is_dir():
            raise SystemExit(f"build_llama_server: {source} has no tools/server: this llama.cpp has no server")
        build_dir = work / "build"
        # Without AMX, as scripts/setup.sh builds llama-cpp-python: built by GCC 12, ggml's AMX matmul loads an
        # empty tile config (the stores into _tile_loadconfig's struct are dropped) and dies with SIGILL on Xeons
        # that have AMX; the flags are no-ops on CPUs without it.
        no_amx = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
        run(["cmake", "-S", str(source), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON",
             f"-DCMAKE_C_FLAGS={no_amx}", f"-DCMAKE_CXX_FLAGS={no_amx}",
             "-DLLAMA_BUILD_SERVER=ON", "-DLLAMA_BUILD_TOOLS=ON", "-DLLAMA_BUILD_TESTS=OFF",
             "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_CURL=OFF", "-DBUILD_SHARED_LIBS=OFF",
             # The web UI's assets come from npm or a Hugging Face download, neither reachable here; the
             # benchmark only needs the OpenAI endpoints.
             "-DLLAMA_BUILD_UI=OFF", "-DLLAMA_USE_PREBUILT_UI=OFF"], log)
        run(["cmake", "--build", str(build_dir), "--target", "llama-server", "-j", str(jobs)], log)
        built = build_dir / "bin" / "llama-server"
        if not built.is_file():
            raise SystemExit(f"build_llama_server: the build finished but {built} is missing; see {log}")
        shutil.copy2(built, binary)
    return binary


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", type=pathlib.Path, default=REPO_ROOT / "build" / "bench-cache",
                   help="where the binary is kept (default build/bench-cache)")
    p.add_argument("--version", default=None, help="llama-cpp-python version (default: the installed one)")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    print(build(args.version or installed_version(), args.cache, args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
