import Foundation
import Scenarios
import Testing

/// Every scenario shipped in `scenarios/` loads, and the three documented ones model what their comments say.
@Suite struct ScenarioFilesTests {
    static let directory = Support.repositoryRoot.appendingPathComponent("scenarios").resolvingSymlinksInPath()

    static func files() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { ["yaml", "yml"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func everyFileLoads() throws {
        let files = try Self.files()
        #expect(files.count >= 3)
        for file in files {
            do {
                // A sweep file beside the scenarios: every point of its grid loads.
                if Sweep.isSweepFile(path: file.path) {
                    let sweep = try Sweep.load(path: file.path)
                    for index in 0..<sweep.pointCount { _ = try sweep.point(index) }
                    let text = try String(contentsOf: file, encoding: .utf8)
                    #expect(text.hasPrefix("#"), "\(file.lastPathComponent) starts with its documentation")
                    continue
                }
                let scenario = try ScenarioLoader.load(path: file.path)
                #expect(scenario.name == file.deletingPathExtension().lastPathComponent)
                #expect(scenario.sourceText.hasPrefix("#"), "\(file.lastPathComponent) starts with its documentation")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Every sweep file in `scenarios/sweeps/` loads, with every point of its grid.
    @Test func everySweepFileLoads() throws {
        let folder = Self.directory.appendingPathComponent("sweeps")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { ["yaml", "yml"].contains($0.pathExtension) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        #expect(files.map(\.lastPathComponent).contains("gie-load-sweep.yaml"))
        for file in files {
            do {
                #expect(Sweep.isSweepFile(path: file.path), "\(file.lastPathComponent) is a sweep file")
                let sweep = try Sweep.load(path: file.path)
                for index in 0..<sweep.pointCount { _ = try sweep.point(index) }
                let text = try String(contentsOf: file, encoding: .utf8)
                #expect(text.hasPrefix("#"), "\(file.lastPathComponent) starts with its documentation")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// The inference extension's comparison as a load sweep (docs/routing.md, "Findings"): gie-benchmark from
    /// 100 req/s to past saturation, three refresh intervals, the five policies the findings compare, three seeds.
    @Test func gieLoadSweepSpansTheLoadsAndRefreshIntervalsItsFindingsCite() throws {
        let sweep = try Sweep.load(path: Self.directory.appendingPathComponent("sweeps/gie-load-sweep.yaml").path)
        #expect(sweep.base.name == "gie-benchmark")
        #expect(
            sweep.dimensions.map(\.key) == ["workloads[sharegpt].rate", "router.refresh-interval", "policy", "seed"])
        #expect(
            sweep.dimensions.map(\.values) == [
                ["100/s", "150/s", "200/s", "210/s", "220/s", "230/s", "240/s", "250/s", "260/s", "300/s"],
                ["0ms", "50ms", "200ms"],
                ["round-robin", "random", "least-connections", "inference-aware", "inference-aware-active"],
                ["7", "8", "9"],
            ])
        #expect(sweep.pointCount == 450)
        // Point 5 x 45 + 2 x 15 + 3 x 3 + 1: 230 req/s, 200 ms scrapes, inference-aware, seed 8.
        let point = try sweep.point(5 * 45 + 2 * 15 + 3 * 3 + 1)
        #expect(point.policy == "inference-aware" && point.seed == 8)
        #expect(point.scenario.fleet.workloads[0].ratePerSecond == 230)
        #expect(point.scenario.fleet.router.refreshInterval == .milliseconds(200))
        #expect(point.scenario.fleet.pools[0].replicas == 6)
    }

    /// Offered load: the sum over workloads of rate x mean service time, over all servers.
    static func load(_ scenario: Scenario) -> Double {
        let pools = Dictionary(uniqueKeysWithValues: scenario.fleet.pools.map { ($0.name, $0) })
        var busy: [String: Double] = [:]
        for workload in scenario.fleet.workloads {
            guard let pool = pools[workload.pool], case .station(let station) = pool.replica else { continue }
            busy[pool.name, default: 0] +=
                workload.ratePerSecond * station.serviceSeconds.mean
                / Double(pool.replicas * station.servers)
        }
        return busy.values.reduce(0, +)
    }

    func scenario(_ name: String) throws -> Scenario {
        try ScenarioLoader.load(path: Self.directory.appendingPathComponent(name).path)
    }

    @Test func quickstartRunsGPUReplicasByName() throws {
        let quickstart = try scenario("quickstart.yaml")
        #expect(quickstart.policies == ["round-robin", "random", "least-connections"])
        let pool = try #require(quickstart.fleet.pools.first)
        #expect(pool.replicas == 4)
        guard case .gpu(let gpu) = pool.replica else {
            Issue.record("the quickstart's pool is not GPU replicas: \(pool.replica)")
            return
        }
        #expect(gpu.timing == .roofline(ModelDeployment(gpu: .h100_80GB, model: .llama3_8B)))
        #expect(gpu.engine == EngineSettings())
        #expect(quickstart.fleet.workloads.map(\.name) == ["chat", "summarize"])
        #expect(quickstart.fleet.workloads[0].sharedPrefixTokens == 400)
        #expect(
            quickstart.fleet.workloads[1].arrival == .gamma(cv: 3)
                && quickstart.fleet.workloads[1].timeout == .seconds(60))
        #expect(quickstart.fleet.slo == SLO(ttft: .seconds(1), tpot: .milliseconds(50)))
    }

    @Test func multiclusterScenariosModelWhatTheirCommentsSay() throws {
        let failover = try scenario("multicluster-failover.yaml")
        let mesh = try #require(failover.fleet.mesh)
        #expect(mesh.clusters.map(\.name) == ["us-east", "us-west", "eu-west"])
        #expect(failover.fleet.pools[0].placement?.map(\.replicas) == [4, 4, 4])
        #expect(mesh.faults == [FaultSpec(.clusterOutage("us-east"), at: .seconds(180), duration: .seconds(180))])
        #expect(failover.policies == ["local-first", "spillover", "global-inference-aware", "uniform"])
        #expect(failover.fleet.workloads.map(\.cluster) == ["us-east", "us-west", "eu-west"])
        let spillover = try scenario("multicluster-spillover.yaml")
        #expect(spillover.fleet.workloads.map(\.ratePerSecond) == [95, 20])
        #expect(spillover.fleet.mesh?.link(0, 1)?.latency == .milliseconds(20))
        let bench = try scenario("bench-multicluster-96.yaml")
        #expect(bench.fleet.pools[0].replicas == 96 && bench.fleet.mesh?.clusters.count == 3)
    }

    @Test func agentSessionsCompareTwoGatewayTimeouts() throws {
        let agents = try scenario("agent-sessions.yaml")
        let workloads = agents.fleet.workloads
        #expect(workloads.map(\.name) == ["chat", "agents-http-timeout", "agents-agent-timeout"])
        #expect(workloads[0].session == nil)
        #expect(workloads[1].session?.connection.requestTimeout == .seconds(30))
        #expect(workloads[2].session?.connection.requestTimeout == .seconds(600))
        // Apart from the timeout, both agent workloads use the documented defaults.
        var defaults = AgentSessionSpec()
        defaults.connection.requestTimeout = .seconds(30)
        #expect(workloads[1].session == defaults)
        #expect(agents.policies.contains("session-aware"))
    }

    @Test func routingScenariosModelWhatTheirCommentsSay() throws {
        let gie = try scenario("gie-benchmark.yaml")
        #expect(
            gie.policies == [
                "round-robin", "random", "least-connections", "inference-aware", "inference-aware-active",
                "filter-chain",
            ])
        #expect(gie.fleet.pools[0].replicas == 6 && gie.fleet.workloads[0].ratePerSecond == 200)
        #expect(gie.fleet.workloads[0].maxInputTokens == 1_024 && gie.fleet.workloads[0].maxOutputTokens == 1_024)
        #expect(gie.fleet.router == RouterSpec())
        let shared = try scenario("shared-prefix.yaml")
        #expect(shared.policies == ["inference-aware-precise", "inference-aware", "load-only", "random"])
        #expect(shared.fleet.pools[0].replicas == 8)
        guard case .gpu(let gpu) = shared.fleet.pools[0].replica else {
            Issue.record("shared-prefix pool is not GPU")
            return
        }
        #expect(gpu.timing == .roofline(ModelDeployment(gpu: .h100_80GB, model: .qwen3_32B, tensorParallelSize: 2)))
        let workload = shared.fleet.workloads[0]
        #expect(workload.prefixGroups == WorkloadSpec.PrefixGroups(count: 150, tokens: 6_000))
        #expect(workload.ratePerSecond == 3 && workload.rampToRatePerSecond == 60)
        let flow = try scenario("flow-control.yaml")
        #expect(flow.fleet.router.flowControl == FlowControlSpec(maxQueue: 5_000, maxWait: .seconds(20)))
        #expect(flow.fleet.workloads.map(\.criticality) == [.critical, .standard, .sheddable])
    }

    @Test func loraScenarioModelsWhatItsCommentSays() throws {
        let lora = try scenario("lora-multitenant.yaml")
        #expect(lora.policies == ["round-robin", "least-connections", "inference-aware", "inference-aware-lora"])
        #expect(lora.fleet.pools.count == 1 && lora.fleet.pools[0].replicas == 8)
        guard case .gpu(let gpu) = lora.fleet.pools[0].replica, let settings = gpu.lora else {
            Issue.record("lora-multitenant pool is not GPU with LoRA")
            return
        }
        #expect(settings.maxLoras == 4 && settings.maxLoraRank == 16 && settings.loadBytesPerSecond == 25e9)
        // The 84 MB and 25 µs the comment gives: Llama-3.1-8B at rank 16, on an H100.
        #expect(settings.adapterBytes == 83_886_080 && settings.stepCostPerAdapter == SimTime(nanoseconds: 25_041))
        let tenants = try #require(lora.fleet.workloads[0].lora)
        #expect(tenants.adapters.count == 50 && tenants.zipf == 1)
        // "The 4 most popular take 46% of requests, the last 25 about 15%."
        #expect((tenants.probabilities.prefix(4).reduce(0, +) * 100).rounded() == 46)
        #expect((tenants.probabilities.suffix(25).reduce(0, +) * 100).rounded() == 15)
    }

    @Test func heavyTailStations() throws {
        let quickstart = try scenario("heavy-tail-stations.yaml")
        #expect(abs(Self.load(quickstart) - 0.9) < 1e-9)
        #expect(quickstart.policies == ["round-robin", "random", "least-connections"])
        #expect(quickstart.fleet.pools.map(\.name) == ["fleet"])
        #expect(quickstart.fleet.pools[0].replicas == 8)
        #expect(quickstart.fleet.workloads.map(\.name) == ["chat", "batch"])
        #expect(quickstart.fleet.workloads[1].arrival == .gamma(cv: 3))
        #expect(quickstart.fleet.workloads[1].timeout == .seconds(30))
        #expect(quickstart.fleet.horizon == .seconds(600) && quickstart.fleet.warmup == .seconds(60))
        #expect(quickstart.fleet.slo == SLO(e2e: .seconds(2)))
    }

    @Test func theoryScenarios() throws {
        let mmc = try scenario("mmc-theory.yaml")
        #expect(abs(Self.load(mmc) - 0.8) < 1e-12)
        #expect(mmc.policies == ["round-robin"])
        #expect(mmc.fleet.sampleInterval == nil)
        #expect(mmc.fleet.pools[0].replica == .station(StationSpec(servers: 8, serviceSeconds: .exponential(mean: 1))))

        let md1 = try scenario("md1-theory.yaml")
        #expect(abs(Self.load(md1) - 0.7) < 1e-12)
        #expect(md1.fleet.pools[0].replica == .station(StationSpec(servers: 1, serviceSeconds: .constant(1))))
        #expect(md1.fleet.horizon == .seconds(4 * 3600) && md1.fleet.warmup == .seconds(600))
    }
}
