public import Analysis
import Fleet
import Foundation
public import ResultsStore
public import Scenarios

/// One finished run: what was asked, what it produced, and where it is stored.
public struct CompletedRun: Sendable {
    public var runID: Int64
    public var policy: String
    public var seed: UInt64
    public var replication: Int
    public var digest: String
    public var events: UInt64
    public var wallSeconds: Double
    public var summary: RunSummary
}

/// Runs a scenario for each policy and replication, storing every run.
///
/// Replication `r` (0-based) uses run seed `seed + r`. Every policy sees the same seeds, so policies are
/// compared on the same arrivals (common random numbers: workload streams don't depend on the policy).
public struct ExperimentRunner {
    public var scenario: Scenario
    public var policies: [String]
    public var seed: UInt64
    public var replications: Int
    public var store: ResultsStore
    /// Called with (run label, fraction simulated) now and then.
    public var progress: ((String, Double) -> Void)?

    public init(
        scenario: Scenario, policies: [String], seed: UInt64, replications: Int, store: ResultsStore,
        progress: ((String, Double) -> Void)? = nil
    ) {
        self.scenario = scenario
        self.policies = policies
        self.seed = seed
        self.replications = replications
        self.store = store
        self.progress = progress
    }

    /// The runs to do, in the order they are done and stored: policy-major, then replication.
    public var plan: [(policy: String, replication: Int, seed: UInt64)] {
        policies.flatMap { policy in
            (0..<replications).map { (policy, $0, seed &+ UInt64($0)) }
        }
    }

    /// Runs the plan. A run that fails is marked `failed` in the store and the error is rethrown.
    public func runAll() throws -> [CompletedRun] {
        try plan.map { try runOne(policy: $0.policy, replication: $0.replication, seed: $0.seed) }
    }

    func runOne(policy: String, replication: Int, seed: UInt64) throws -> CompletedRun {
        let runID = try store.beginRun(
            NewRun(
                scenarioName: scenario.name, scenarioSHA256: scenario.sha256, scenarioText: scenario.sourceText,
                policy: policy, seed: seed, replication: replication, toolVersion: ToolVersion.current,
                createdAt: Self.timestamp(), horizonNs: scenario.fleet.horizon.nanoseconds,
                warmupNs: scenario.fleet.warmup.nanoseconds))
        let label = replications > 1 ? "\(policy) #\(replication + 1)/\(replications)" : policy
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let output = try FleetRun.execute(
                scenario.fleet, policy: policy, seed: seed,
                progress: progress.map { report in { report(label, $0) } })
            let wall = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let summary = RunSummary.of(output)
            try store.completeRun(id: runID, results: Self.results(output, summary: summary, wallSeconds: wall))
            return CompletedRun(
                runID: runID, policy: policy, seed: seed, replication: replication,
                digest: output.digest.hex, events: output.events, wallSeconds: wall, summary: summary)
        } catch {
            try? store.failRun(id: runID, error: "\(error)")
            throw error
        }
    }

    /// The rows stored for one run.
    static func results(_ output: RunOutput, summary: RunSummary, wallSeconds: Double) -> RunResults {
        let workloadNames = output.spec.workloads.map(\.name)
        return RunResults(
            replicas: output.replicas.map { ReplicaRow(replica: $0.id.index, pool: $0.pool, kind: $0.kind) },
            requests: output.requests.map { record in
                RequestRow(
                    requestID: Int64(record.id.index), workload: workloadNames[record.workload.index],
                    replica: record.replica?.index, arrivalNs: record.arrival.nanoseconds,
                    startNs: record.start?.nanoseconds, firstTokenNs: record.firstToken?.nanoseconds,
                    endNs: record.end?.nanoseconds, inputTokens: record.inputTokens,
                    outputTokens: record.outputTokens, status: (record.status ?? .unfinished).rawValue)
            },
            summaries: summary.metrics.map { SummaryRow(metric: $0.name, value: $0.value) },
            samples: output.samples.map { sample in
                SampleRow(
                    timeNs: sample.time.nanoseconds, replica: sample.replica.index,
                    numRequestsWaiting: sample.gauges.numRequestsWaiting,
                    numRequestsRunning: sample.gauges.numRequestsRunning,
                    kvCacheUsagePerc: sample.gauges.kvCacheUsagePerc, busyFraction: sample.busyFraction)
            },
            digest: output.digest.hex, events: Int64(output.events), wallSeconds: wallSeconds)
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
