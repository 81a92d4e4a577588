import Fleet
import Foundation
import InferMeshCLI
import ResultsStore
import TestSupport
import Testing

/// The commands end to end: in process through `CommandIO` buffers, and as real processes.
@Suite struct CLITests {
    static let scenario = """
        # A small scenario for CLI tests: 3 stations, one Poisson workload at load 0.8.
        name: cli-small
        seed: 3
        horizon: 5m
        warmup: 30s
        slo: {e2e: 3s}
        policies: [round-robin, least-connections]
        pools:
          - name: pool
            replicas: 3
            station: {servers: 1, service: {dist: exponential, mean: 500ms}}
        workloads:
          - name: chat
            rate: 4.8/s
        """

    /// A fresh temporary folder with the scenario in it.
    static func workspace() throws -> URL {
        let folder = try TemporaryDirectory.make("infermesh-cli")
        try scenario.write(to: folder.appendingPathComponent("small.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    /// Runs the root command in process and captures its output and exit status.
    static func invoke(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
        let out = Collected<String>(), err = Collected<String>()
        let io = CommandIO(out: { out.append($0) }, err: { err.append($0) }, errIsTerminal: false)
        let status = InferMeshCommand.perform(arguments, io: io)
        return (status, out.text, err.text)
    }

    @Test func timingPrintsBothModelsAndRejectsUnknownNames() {
        let h100 = Self.invoke(["timing", "H100", "Llama-3-8B"])
        #expect(h100.status == 0)
        #expect(h100.out.hasPrefix("H100-80GB · Llama-3-8B · TP 1\n"))
        // The roofline's 256-token prefill on an H100 is compute-bound: 7.0 ms with the 1 ms step overhead.
        #expect(h100.out.contains("prefill 256 tokens") && h100.out.contains("7.001"))
        let qwen = Self.invoke(["timing", "H100-80GB", "Qwen3-32B", "--tensor-parallel-size", "2"])
        #expect(qwen.status == 0 && qwen.out.contains("(no fitted profile)"))
        let unknown = Self.invoke(["timing", "B300", "Llama-3-8B"])
        #expect(unknown.status == 64 && unknown.err.contains("unknown hardware 'B300'; known: H100-80GB"))
        #expect(Self.invoke(["timing", "--cross-check"]).out.contains("decode batch 256, context 600"))
    }

    /// vLLM's `--quantization`, `--kv-cache-dtype` and `--enable-expert-parallel`, and a Hugging Face config.json.
    @Test func timingTakesVLLMsPrecisionFlagsAndConfigFiles() {
        let fp8 = Self.invoke(["timing", "H100", "Llama-3.1-8B", "--quantization", "fp8", "--kv-cache-dtype", "fp8"])
        #expect(fp8.status == 0)
        #expect(
            fp8.out.hasPrefix(
                "H100-80GB · Llama-3-8B · TP 1 · fp8 · kv fp8 (no fitted profile: quantization fp8)\n"
                    + "weights 8.5 GiB per GPU · KV 65536 bytes/token · 60971 blocks of 16 tokens"))
        let unknown = Self.invoke(["timing", "H100", "Llama-3-8B", "--quantization", "fp4"])
        #expect(unknown.status == 64)
        #expect(unknown.err.contains("unknown quantization 'fp4'; known: fp8, int8, awq, gptq, mxfp4"))
        let refused = Self.invoke(["timing", "H200", "DeepSeek-V3", "--quantization", "awq"])
        #expect(refused.status == 64)
        #expect(refused.err.hasPrefix("Error: --quantization: DeepSeek-V3's checkpoint is quantized with fp8"))
        let ep = Self.invoke([
            "timing", "H200", "DeepSeek-V3", "--tensor-parallel-size", "8", "--enable-expert-parallel",
        ])
        #expect(ep.status == 0 && ep.out.hasPrefix("H200-141GB · DeepSeek-V3 · TP 8 · EP · fp8 (no fitted profile"))
        // A published config.json times exactly as the built-in it describes.
        let config = Repository.root.appendingPathComponent("Tests/ScenariosTests/Fixtures/models/Qwen3-30B-A3B.json")
        let byo = Self.invoke(["timing", "H100", "--model-config", config.path])
        #expect(byo.status == 0)
        #expect(byo.out == Self.invoke(["timing", "H100", "Qwen3-30B-A3B"]).out)
        let missing = Self.invoke(["timing", "H100", "--model-config", "/nonexistent/m.json"])
        #expect(missing.status == 66 && missing.err.hasPrefix("Error: no model config file `/nonexistent/m.json`"))
        let both = Self.invoke(["timing", "H100", "Llama-3-8B", "--model-config", config.path])
        #expect(both.status == 64 && both.err.contains("give MODEL or --model-config, not both"))
    }

    @Test func runPrintsTheComparisonAndStoresEveryRun() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("r.sqlite").path
        let result = Self.invoke(["run", folder.appendingPathComponent("small.yaml").path, "--db", db])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("round-robin") && result.out.contains("least-connections"))
        #expect(result.out.contains("e2e p99 (ms)"))

        let runs = try ResultsStore(path: db).runs()
        #expect(runs.map(\.policy) == ["round-robin", "least-connections"])
        #expect(runs.allSatisfy { $0.status == .complete && $0.seed == 3 && $0.scenarioName == "cli-small" })
        for run in runs { #expect(result.out.contains(run.digest!)) }
        let store = try ResultsStore(path: db)
        #expect(try store.summaries(runID: runs[0].id).contains { $0.metric == "e2e_ms_p99" })
        #expect(try !store.requests(runID: runs[0].id).isEmpty)
    }

    /// A small GPU fleet end to end: the per-token columns, replica totals and ITL histogram reach the
    /// database, consistent with each other, and two job counts store the same digests.
    @Test func aGPUScenarioStoresTokenMetrics() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("gpu.yaml")
        try """
        # Two Llama-3-8B engines on H100s, roofline timing.
        name: cli-gpu
        seed: 9
        horizon: 20s
        warmup: 0s
        sample-interval: 1s
        policies: [round-robin, random]
        pools:
          - name: gpu
            replicas: 2
            gpu: {hardware: H100-80GB, model: Llama-3-8B, timing: roofline}
        workloads:
          - name: chat
            rate: 10/s
            shared-prefix-tokens: 256
            input-tokens: {dist: uniform, min: 100, max: 600}
            output-tokens: {dist: uniform, min: 2, max: 100}
        """.write(to: file, atomically: true, encoding: .utf8)
        var digests: [[String]] = []
        for jobs in ["1", "2"] {
            let db = folder.appendingPathComponent("gpu-\(jobs).sqlite").path
            let result = Self.invoke(["run", file.path, "--db", db, "--jobs", jobs])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("itl p99 (ms)") && result.out.contains("prefix hit rate"))
            let store = try ResultsStore(path: db)
            let runs = try store.runs()
            digests.append(runs.map { $0.digest! })
            let id = runs[0].id
            let replicas = try store.replicas(runID: id)
            #expect(replicas.allSatisfy { $0.kind == "gpu" && ($0.numGPUBlocks ?? 0) > 10_000 })
            let requests = try store.requests(runID: id)
            let done = requests.filter { $0.status == "completed" && $0.endNs! < 20_000_000_000 }
            #expect(done.allSatisfy { ($0.outputTokens > 1) == ($0.itlMaxNs != nil) })
            // Every output token after a request's first has one ITL; the histogram counts those produced before
            // the horizon: all of the requests done by then, none beyond all requests'.
            let histogramTokens = try store.itlHistogram(runID: id).reduce(0) { $0 + $1.tokens }
            #expect(done.count > 150)
            #expect(histogramTokens >= Int64(done.reduce(0) { $0 + $1.outputTokens - 1 }))
            #expect(histogramTokens <= Int64(requests.reduce(0) { $0 + $1.outputTokens - 1 }))
            let generated = replicas.reduce(0) { $0 + ($1.generationTokens ?? 0) }
            #expect(generated >= Int64(done.reduce(0) { $0 + $1.outputTokens }))
            #expect(generated <= Int64(requests.reduce(0) { $0 + $1.outputTokens }))
            let samples = try store.samples(runID: id)
            #expect(samples.allSatisfy { $0.tokensPerSecond != nil && $0.generationTokensPerSecond != nil })
            #expect(samples.contains { ($0.prefixCacheHitRate ?? 0) > 0 })
        }
        #expect(digests[0] == digests[1])
    }

    @Test func sameSeedSameDigestsOtherSeedDifferent() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("small.yaml").path
        let db = folder.appendingPathComponent("r.sqlite").path
        for seed in ["5", "5", "6"] {
            #expect(Self.invoke(["run", file, "--db", db, "--seed", seed, "--policy", "random"]).status == 0)
        }
        let digests = try ResultsStore(path: db).runs().map { $0.digest! }
        #expect(digests[0] == digests[1])
        #expect(digests[0] != digests[2])
    }

    @Test func resultsDoNotDependOnJobs() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("small.yaml").path
        var stored: [[StoredRun]] = []
        var requests: [[RequestRow]] = []
        for jobs in ["1", "3"] {
            let db = folder.appendingPathComponent("jobs-\(jobs).sqlite").path
            let result = Self.invoke(["run", file, "--db", db, "--replications", "3", "--jobs", jobs])
            #expect(result.status == 0, "\(result.err)")
            let store = try ResultsStore(path: db)
            let runs = try store.runs()
            stored.append(runs)
            requests.append(try runs.flatMap { try store.requests(runID: $0.id) })
        }
        #expect(stored[0].map(\.id) == stored[1].map(\.id))
        #expect(stored[0].map(\.policy) == stored[1].map(\.policy))
        #expect(stored[0].map(\.seed) == stored[1].map(\.seed))
        #expect(stored[0].map(\.digest) == stored[1].map(\.digest))
        #expect(requests[0] == requests[1])
    }

    @Test func jsonOutputCarriesEveryRunAndItsSummary() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = Self.invoke([
            "run", folder.appendingPathComponent("small.yaml").path,
            "--db", folder.appendingPathComponent("r.sqlite").path,
            "--format", "json", "--replications", "2",
        ])
        #expect(result.status == 0, "\(result.err)")
        let json = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
        let runs = json["runs"] as! [[String: Any]]
        #expect(runs.count == 4)
        #expect(runs.map { $0["seed"] as! String } == ["3", "4", "3", "4"])
        let summary = runs[0]["summary"] as! [String: Any]
        #expect(summary["throughput_rps"] is Double)
        let policies = json["policies"] as! [[String: Any]]
        #expect(policies.map { $0["policy"] as! String } == ["round-robin", "least-connections"])
        #expect((policies[0]["ci95_half_width"] as! [String: Any])["e2e_ms_p99"] is Double)
    }

    @Test func exitCodesForMissingAndBadScenarios() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = Self.invoke(["run", folder.appendingPathComponent("nope.yaml").path])
        #expect(missing.status == 66)
        let bad = folder.appendingPathComponent("bad.yaml")
        try Self.scenario.replacingOccurrences(of: "replicas: 3", with: "replicas: -3")
            .write(to: bad, atomically: true, encoding: .utf8)
        let invalid = Self.invoke(["validate", bad.path])
        #expect(invalid.status == 65)
        #expect(invalid.err.contains("bad.yaml:10:15: error: at pools[0].replicas"))
        #expect(invalid.err.contains("pools[0].replicas"))
        let good = Self.invoke(["validate", folder.appendingPathComponent("small.yaml").path])
        #expect(good.status == 0)
        #expect(good.out.hasPrefix("ok: cli-small"))
        // Nothing is stored for a bad scenario.
        let db = folder.appendingPathComponent("r.sqlite").path
        #expect(Self.invoke(["run", bad.path, "--db", db]).status == 65)
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func unknownPolicyIsAUsageError() throws {
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = Self.invoke(["run", folder.appendingPathComponent("small.yaml").path, "--policy", "fastest"])
        #expect(result.status == 64)
        #expect(result.err.contains("unknown policy 'fastest'"))
    }

    // `list policies`, `plugins`, `replica-kinds`, `arrival-processes` and `metrics`: RegistryConsistencyTests.

    @Test func listHardwareAndModelsPrintTheCatalogs() {
        let hardware = Self.invoke(["list", "hardware"])
        #expect(hardware.status == 0)
        #expect(hardware.out.contains("H100-80GB   80          989           3.35"))
        let models = Self.invoke(["list", "models"])
        #expect(models.status == 0)
        #expect(
            models.out.split(separator: "\n").dropFirst().map { String($0.split(separator: " ")[0]) }
                == [
                    "Llama-2-7B", "Llama-3-8B", "CodeLlama-34B", "Llama-2-70B", "Llama-3-70B", "Qwen3-32B",
                    "Mixtral-8x7B", "Qwen3-30B-A3B", "Qwen3-235B-A22B", "DeepSeek-V3", "gpt-oss-120b",
                ])
        #expect(hardware.out.contains("MI300X      192         1307          5.30      896 (7-link mesh)  2615"))
        #expect(hardware.out.contains("A100-80GB   80          312           2.04      600                none"))
        #expect(models.out.contains("DeepSeek-V3      671.0     37.6      61      70272           MLA 512+64"))
        #expect(models.out.contains("Qwen3-32B") && models.out.contains("none (roofline only)"))
        let plugins = Self.invoke(["list", "plugins"])
        #expect(
            plugins.out.split(separator: "\n").dropFirst().map { String($0.split(separator: " ")[0]) }
                == PluginRegistry.names)
    }

    /// Two real processes: the same digests across processes, and two writers on one database at once.
    @Test func twoProcessesWritingOneDatabaseAgreeOnDigests() throws {
        let binary = try #require(Self.executable(), "the infermesh executable was not built next to the tests")
        let folder = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("shared.sqlite").path
        let arguments = ["run", folder.appendingPathComponent("small.yaml").path, "--db", db, "--quiet"]
        let processes = try (0..<2).map { _ in
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        for process in processes { process.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        let runs = try ResultsStore(path: db).runs()
        #expect(runs.count == 4)
        #expect(runs.allSatisfy { $0.status == .complete })
        let byPolicy = Dictionary(grouping: runs, by: \.policy)
        for (_, group) in byPolicy { #expect(Set(group.map(\.digest)).count == 1) }
    }

    static func executable() -> URL? {
        // SwiftPM puts test bundles and executables in the same build folder.
        var folder = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = folder.appendingPathComponent("infermesh")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }
}
