#!/usr/bin/env python3
"""Measures this CPU for BENCHMARKS.md: every kernel choice the CPU offers, with the anchors, in one sitting.

Usage:  scripts/bench-cpu.py [--rounds N] [--bin PATH] [--model DIR] [--files DIR]
                             [--llama-bench PATH | --build-llama] [--no-reference] [--json-out FILE]
        scripts/bench-cpu.py --report FILE      (the section of a saved --json-out again)

Runs `gemma-embed bench --workloads w1,w2` (W1: 64 documents of 256 tokens; W2: a 12-token query) for
  float32, Q8_0 and calibrated Q4_0 (GGUF files `gemma-embed quantize` writes once into --files),
  the same with AMX int8 tiles (EMBEDDINGGEMMA_AMX=1) where the CPU has them,
  float32 with the AVX-512 kernels off (the AVX2 path) where the CPU has AVX-512,
alternating the programs round after round (shared machines drift by 20 % within minutes, so a
comparison made minutes apart measures the host, not the code). Between rounds it measures the anchors on
the same files and threads: sentence-transformers (scripts/bench-reference.py) and llama.cpp's llama-bench
(`-embd 1 -p 256 -n 0`), either one you name or one --build-llama builds outside the project (from the
llama-cpp-python source package, into ~/.cache/embeddinggemma/llama.cpp; AMX left out, as the issue's
llama.cpp build dies on AMX instructions it has not asked the OS for).

Prints a Markdown section for BENCHMARKS.md on standard output (CPU with family and model numbers, date,
commit, each round, medians, ratios, the issue-12 goals met or not) and progress on standard error.
"""
import argparse
import datetime
import glob
import json
import os
import statistics
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.expanduser("~/.cache/embeddinggemma")


def log(message):
    print(message, file=sys.stderr, flush=True)


def cpu_info():
    """The first processor's fields of /proc/cpuinfo."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def run(command, env=None, what=None):
    """Runs a command, returns its standard output; stops the script with its error output if it fails."""
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit(f"bench-cpu: {what or command[0]} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def gemma_embed_binary(given):
    if given:
        return given
    log("building gemma-embed (swift build -c release)...")
    run(["swift", "build", "-c", "release", "--product", "gemma-embed"], what="swift build")
    path = run(["swift", "build", "-c", "release", "--show-bin-path"], what="swift build --show-bin-path").strip()
    return os.path.join(path, "gemma-embed")


def ensure_gguf(binary, model, files, kind):
    """The model as a GGUF file of the given type, written once (q4_0 calibrated: about 1.5 minutes)."""
    path = os.path.join(files, f"embeddinggemma-{kind}.gguf")
    if not os.path.exists(path):
        os.makedirs(files, exist_ok=True)
        log(f"writing {path} (gemma-embed quantize --type {kind})...")
        partial = path + ".partial"
        # Its progress and summary go to standard error: standard output is the Markdown.
        subprocess.run([binary, "quantize", "--model", model, "--type", kind, "--output", partial], check=True,
                       stdout=sys.stderr)
        os.replace(partial, path)
    return path


def build_llama_bench(has_amx):
    """Builds llama.cpp's llama-bench from the llama-cpp-python source package, once."""
    home = os.path.join(CACHE, "llama.cpp")
    binary = os.path.join(home, "build", "bin", "llama-bench")
    if os.path.exists(binary):
        return binary
    os.makedirs(home, exist_ok=True)
    venv = os.path.join(home, "venv")
    if not os.path.exists(os.path.join(venv, "bin", "cmake")):
        log("making a venv with cmake and ninja for the llama.cpp build...")
        run([sys.executable, "-m", "venv", venv], what="python3 -m venv")
        run([os.path.join(venv, "bin", "pip"), "install", "--quiet", "cmake", "ninja"], what="pip install cmake ninja")
    sources = glob.glob(os.path.join(home, "llama_cpp_python-*", "vendor", "llama.cpp"))
    if not sources:
        log("downloading the llama-cpp-python source package (it carries llama.cpp)...")
        run([os.path.join(venv, "bin", "pip"), "download", "--quiet", "--no-deps", "--no-binary", "llama-cpp-python",
             "--dest", home, "llama-cpp-python"], what="pip download llama-cpp-python")
        archives = sorted(glob.glob(os.path.join(home, "llama_cpp_python-*.tar.gz")))
        if not archives:
            sys.exit("bench-cpu: pip downloaded no llama_cpp_python-*.tar.gz")
        with tarfile.open(archives[-1]) as archive:
            archive.extractall(home, filter="data")
        sources = glob.glob(os.path.join(home, "llama_cpp_python-*", "vendor", "llama.cpp"))
        if not sources:
            sys.exit("bench-cpu: the llama-cpp-python source package has no vendor/llama.cpp")
    flags = ["-DGGML_NATIVE=ON"]
    if has_amx:
        # -march=native would compile AMX kernels, which crash on first use (no permission asked).
        flags = ["-DGGML_NATIVE=OFF", "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON",
                 "-DGGML_AVX512=ON", "-DGGML_AVX512_VNNI=ON", "-DGGML_AVX512_BF16=ON", "-DGGML_AVX_VNNI=ON",
                 "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"]
    log(f"building llama-bench from {sources[0]} (a few minutes)...")
    bin_dir = os.path.join(venv, "bin")
    run([os.path.join(bin_dir, "cmake"), "-S", sources[0], "-B", os.path.join(home, "build"), "-G", "Ninja",
         f"-DCMAKE_MAKE_PROGRAM={os.path.join(bin_dir, 'ninja')}", "-DCMAKE_BUILD_TYPE=Release",
         "-DBUILD_SHARED_LIBS=OFF", "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF",
         "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF"] + flags, what="cmake (llama.cpp)")
    run([os.path.join(bin_dir, "cmake"), "--build", os.path.join(home, "build"), "--target", "llama-bench",
         "-j", str(os.cpu_count() or 2)], what="cmake --build (llama.cpp)")
    return binary


def bench_gemma(binary, model, env):
    output = run([binary, "bench", "--model", model, "--workloads", "w1,w2", "--query-calls", "100", "--json"],
                 env=env, what="gemma-embed bench")
    report = json.loads(output)
    metrics = {w["name"].split(" ")[0]: w["metrics"] for w in report["workloads"]}
    return {
        "w1": metrics["W1"]["tokens/s"],
        "peak": metrics["W1"].get("% of float32 peak"),
        "w2": metrics["W2"]["p50 ms"],
        "rss": report["peak_rss_mb"],
        "kernels": report["kernels"],
        "features": report["cpu_features"],
        "blas": report.get("blas_core"),
        "machine": report["machine"],
        "threads": report["threads"],
    }


def bench_llama(binary, gguf, threads):
    output = run([binary, "-m", gguf, "-embd", "1", "-p", "256", "-n", "0", "-t", str(threads), "-r", "3",
                  "-o", "json"], what="llama-bench")
    rows = json.loads(output)
    return {"tokens_per_s": rows[0]["avg_ts"], "stdev": rows[0]["stddev_ts"], "build": rows[0].get("build_commit")}


def bench_reference(model, threads):
    output = run([sys.executable, os.path.join(HERE, "bench-reference.py"), "--model", model, "--threads",
                  str(threads)], what="scripts/bench-reference.py")
    return json.loads(output[output.index("{"):])


def fmt(value, digits=0):
    return "–" if value is None else f"{value:.{digits}f}"


def print_report(rounds, has_amx, threads, started, finished, commit, results, anchors):
    """The Markdown section for BENCHMARKS.md."""
    first = results["float32"][0]
    print(f"## {first['machine']}, {started:%Y-%m-%d %H:%M}–{finished:%H:%M} UTC, commit {commit}, "
          f"{first['threads']} threads\n")
    print(f"`scripts/bench-cpu.py --rounds {rounds}`; CPU features: {' '.join(first['features'])}; "
          f"BLAS core: {first['blas'] or 'none'}.\n")
    print(f"Kernels (float32 run): {first['kernels']}.\n")
    if has_amx:
        print(f"With EMBEDDINGGEMMA_AMX=1: {results['Q8_0, AMX tiles'][0]['kernels'].split('; ')[-1]}.\n")

    header = " | ".join(f"round {i + 1}" for i in range(rounds))
    separator = "|".join("---" for _ in range(rounds + 4))
    st = anchors.get("sentence-transformers")
    anchor_w1 = {"float32": ("sentence-transformers", st and st["W1"]["tokens_per_s"])}
    for name in results:
        if name.startswith("Q8_0") and "llama.cpp Q8_0" in anchors:
            anchor_w1[name] = ("llama.cpp Q8_0", anchors["llama.cpp Q8_0"]["tokens_per_s"])
        if name.startswith("Q4_0") and "llama.cpp Q4_0" in anchors:
            anchor_w1[name] = ("llama.cpp Q4_0", anchors["llama.cpp Q4_0"]["tokens_per_s"])
    print(f"| W1 (64 × 256-token documents), tokens/s | {header} | median | anchor | ratio |")
    print(f"|{separator}|")
    medians = {}
    for name, runs in results.items():
        medians[name] = {key: statistics.median(r[key] for r in runs) for key in ("w1", "w2", "rss")}
        anchor_name, anchor_value = anchor_w1.get(name, (None, None))
        ratio = f"**{medians[name]['w1'] / anchor_value:.2f}×**" if anchor_value else "–"
        anchor = f"{anchor_name} {anchor_value:.0f}" if anchor_value else "–"
        cells = " | ".join(fmt(r["w1"]) for r in runs)
        print(f"| {name} | {cells} | {fmt(medians[name]['w1'])} | {anchor} | {ratio} |")
    peaks = [r["peak"] for r in results["float32"] if r["peak"] is not None]
    if peaks:
        print(f"| float32, % of the probe's float32 peak | {' | '.join(fmt(p, 1) + ' %' for p in peaks)} | "
              f"{statistics.median(peaks):.1f} % | | |")
    if "llama.cpp F32" in anchors:
        value = anchors["llama.cpp F32"]["tokens_per_s"]
        print(f"| float32 against llama.cpp F32 |{' |' * rounds} {fmt(medians['float32']['w1'])} | "
              f"llama.cpp F32 {value:.0f} | **{medians['float32']['w1'] / value:.2f}×** |")
    print()
    print(f"| W2 (12-token query) p50, ms | {header} | median | anchor | speed-up over float32 |")
    print(f"|{separator}|")
    for name, runs in results.items():
        cells = " | ".join(fmt(r["w2"], 1) for r in runs)
        anchor = f"sentence-transformers {st['W2']['p50_ms']:.1f}" if st and name == "float32" else "–"
        faster = medians["float32"]["w2"] / medians[name]["w2"]
        print(f"| {name} | {cells} | {fmt(medians[name]['w2'], 1)} | {anchor} | "
              f"{'–' if name == 'float32' else f'{faster:.2f}×'} |")
    print()
    print("Peak RSS (median, MB): " + ", ".join(f"{name} {m['rss']:.0f}" for name, m in medians.items())
          + (f"; sentence-transformers {st['peak_rss_mb']:.0f}" if st else "") + ".\n")
    if anchors:
        engines = [st["engine"]] if st else []
        builds = {a.get("build") for k, a in anchors.items() if k.startswith("llama.cpp")} - {None}
        engines += [f"llama.cpp build {b} (llama-bench -embd 1 -p 256 -n 0 -t {threads} -r 3)" for b in builds]
        print("Anchors: " + "; ".join(engines) + ".\n")

    print("Speed goals of issue 12 on this CPU (medians):\n")
    for text, met in speed_goals(results, medians, anchor_w1, st, peaks):
        print(f"- {'met' if met else '**not met**'}: {text}")


def speed_goals(results, medians, anchor_w1, st, peaks):
    """Issue 12's speed goals as (text with the measured value, met) pairs."""
    goals = []
    if st:
        ratio = medians["float32"]["w1"] / st["W1"]["tokens_per_s"]
        goals.append((f"float32 W1 ≥ 1.2× sentence-transformers ({ratio:.2f}×)", ratio >= 1.2))
    if peaks:
        goals.append((f"float32 W1 ≥ 70 % of the float32 peak ({statistics.median(peaks):.1f} %)",
                      statistics.median(peaks) >= 70))
    goals.append((f"float32 W2 ≤ 25 ms ({medians['float32']['w2']:.1f} ms)", medians["float32"]["w2"] <= 25))
    for name in results:
        if name.startswith("Q") and name in anchor_w1:
            ratio = medians[name]["w1"] / anchor_w1[name][1]
            goals.append((f"{name} W1 ≥ 1.3× llama.cpp ({ratio:.2f}×)", ratio >= 1.3))
        if name.startswith("Q"):
            faster = medians["float32"]["w2"] / medians[name]["w2"]
            goals.append((f"{name} W2 ≥ 1.5× faster than float32 and ≤ 10 ms ({faster:.2f}×, "
                          f"{medians[name]['w2']:.1f} ms)", faster >= 1.5 and medians[name]["w2"] <= 10))
    return goals


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of every variant (default 3)")
    parser.add_argument("--bin", help="a gemma-embed binary (default: swift build -c release)")
    parser.add_argument("--model", default=os.environ.get("EMBEDDINGGEMMA_MODEL",
                                                         os.path.join(CACHE, "embeddinggemma-300m")))
    parser.add_argument("--files", default=os.path.join(CACHE, "bench"), help="where the GGUF files are kept")
    parser.add_argument("--llama-bench", help="a llama-bench binary for the llama.cpp anchor")
    parser.add_argument("--build-llama", action="store_true", help="build llama-bench outside the project")
    parser.add_argument("--no-reference", action="store_true", help="skip the sentence-transformers anchor")
    parser.add_argument("--json-out", help="also write every measurement as JSON to this file")
    parser.add_argument("--report", metavar="FILE", help="print the section of a saved --json-out; measure nothing")
    args = parser.parse_args()
    if args.report:
        with open(args.report) as f:
            saved = json.load(f)
        parse = datetime.datetime.fromisoformat
        print_report(len(saved["results"]["float32"]), saved["amx"], saved["threads"], parse(saved["started"]),
                     parse(saved["finished"]), saved["commit"], saved["results"], saved["anchors"])
        return
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not os.path.isdir(args.model):
        sys.exit(f"bench-cpu: no model folder at {args.model} (scripts/fetch-model.sh downloads it)")

    cpu = cpu_info()
    flags = set(cpu.get("flags", "").split())
    has_amx = {"amx_tile", "amx_int8"} <= flags
    threads = int(os.environ.get("EMBEDDINGGEMMA_THREADS", os.cpu_count() or 1))
    binary = gemma_embed_binary(args.bin)
    files = {kind: ensure_gguf(binary, args.model, args.files, kind) for kind in ("q8_0", "q4_0")}

    variants = [("float32", args.model, {}), ("Q8_0", files["q8_0"], {}), ("Q4_0 (calibrated)", files["q4_0"], {})]
    if has_amx:
        variants += [("Q8_0, AMX tiles", files["q8_0"], {"EMBEDDINGGEMMA_AMX": "1"}),
                     ("Q4_0, AMX tiles", files["q4_0"], {"EMBEDDINGGEMMA_AMX": "1"})]
    if "avx512f" in flags:
        variants.append(("float32, AVX-512 off (AVX2 kernels)", args.model, {"EMBEDDINGGEMMA_DISABLE_AVX512": "1"}))

    llama = args.llama_bench or os.environ.get("LLAMA_BENCH")
    if not llama and args.build_llama:
        llama = build_llama_bench(has_amx)
    # Kernel switches set in the caller's environment would apply to every variant: each sets its own.
    base_env = {key: value for key, value in os.environ.items()
                if key != "EMBEDDINGGEMMA_AMX" and not key.startswith("EMBEDDINGGEMMA_DISABLE_")}
    started = datetime.datetime.now(datetime.timezone.utc)
    results = {name: [] for name, _, _ in variants}
    anchors = {}
    steps = args.rounds * len(variants)
    step = 0
    for round_index in range(args.rounds):
        for name, model, extra in variants:
            step += 1
            log(f"[{step}/{steps}] round {round_index + 1}: {name}")
            results[name].append(bench_gemma(binary, model, dict(base_env, **extra)))
        if round_index == 0:  # the anchors between the first and second rounds: the same sitting
            if not args.no_reference:
                log("anchor: sentence-transformers (scripts/bench-reference.py)...")
                anchors["sentence-transformers"] = bench_reference(args.model, threads)
            if llama:
                f32 = ensure_gguf(binary, args.model, args.files, "f32")
                for kind, path in (("F32", f32), ("Q8_0", files["q8_0"]), ("Q4_0", files["q4_0"])):
                    log(f"anchor: llama.cpp {kind}...")
                    anchors[f"llama.cpp {kind}"] = bench_llama(llama, path, threads)
    finished = datetime.datetime.now(datetime.timezone.utc)

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout.strip() or "unknown"
    print_report(args.rounds, has_amx, threads, started, finished, commit, results, anchors)

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"cpu": cpu.get("model name"), "family": cpu.get("cpu family"), "model": cpu.get("model"),
                       "amx": has_amx, "threads": threads, "started": started.isoformat(),
                       "finished": finished.isoformat(), "commit": commit, "results": results, "anchors": anchors},
                      f, indent=2)


if __name__ == "__main__":
    main()
