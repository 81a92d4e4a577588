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

    /// One run of the plan.
    public struct PlannedRun: Sendable {
        public var policy: String
        public var replication: Int
        public var seed: UInt64

        public init(policy: String, replication: Int, seed: UInt64) {
            self.policy = policy
            self.replication = replication
            self.seed = seed
        }
    }

    /// The runs to do, in the order they are stored: policy-major, then replication.
    public var plan: [PlannedRun] {
        policies.flatMap { policy in
            (0..<replications).map { PlannedRun(policy: policy, replication: $0, seed: seed &+ UInt64($0)) }
        }
    }

    /// Runs the plan on up to `jobs` threads. A run that fails is marked `failed` and the first error is
    /// rethrown after the others end.
    ///
    /// Run ids are taken in plan order before anything runs, and each run is single-threaded, so ids,
    /// digests and stored rows are the same whatever `jobs` is. Progress is reported only with one job.
    public func runAll(jobs: Int = 1) throws -> [CompletedRun] {
        try Self.runAll(
            plan.map { BatchRun(scenario: scenario, run: $0, replications: replications) }, store: store, jobs: jobs,
            progress: progress)
    }

    /// One run of a batch: a scenario and what to run of it. A sweep runs many scenarios in one batch.
    public struct BatchRun: Sendable {
        public var scenario: Scenario
        public var run: PlannedRun
        /// How many replications the run is one of (for its progress label).
        public var replications: Int

        public init(scenario: Scenario, run: PlannedRun, replications: Int) {
            self.scenario = scenario
            self.run = run
            self.replications = replications
        }
    }

    /// Runs `batch` on up to `jobs` threads, storing run `i` under the `i`-th id taken, in batch order, before
    /// anything runs; so ids, digests and stored rows do not depend on `jobs`. A run that fails is marked
    /// `failed` and the first error is rethrown after the others end (with one job, the rest are not run).
    public static func runAll(
        _ batch: [BatchRun], store: ResultsStore, jobs: Int = 1, progress: ((String, Double) -> Void)? = nil
    ) throws -> [CompletedRun] {
        let contexts = batch.map { RunContext(scenario: $0.scenario, store: store, replications: $0.replications) }
        let ids = try zip(contexts, batch).map { try store.beginRun($0.newRun($1.run)) }
        // Stopped by a signal, the runs not yet ended are marked failed rather than left running.
        RunsUnderWay.track(ids, in: store)
        defer { RunsUnderWay.untrack(ids) }
        var outcomes: [Result<CompletedRun, any Error>]
        if jobs <= 1 || batch.count == 1 {
            outcomes = []
            for index in batch.indices {
                outcomes.append(
                    Result { try contexts[index].execute(batch[index].run, runID: ids[index], progress: progress) })
                if case .failure = outcomes.last! { break }
            }
            for id in ids.dropFirst(outcomes.count) {
                try? store.failRun(id: id, error: "not run: an earlier run of the plan failed")
            }
        } else {
            let slots = OutcomeSlots(count: batch.count)
            DispatchQueue.concurrentPerform(iterations: Swift.min(jobs, batch.count)) { _ in
                while let index = slots.claim() {
                    slots.set(
                        index,
                        Result { try contexts[index].execute(batch[index].run, runID: ids[index], progress: nil) })
                }
            }
            outcomes = slots.all()
        }
        return try outcomes.map { try $0.get() }
    }

    /// What a run needs, all `Sendable`, so that runs can go on several threads.
    struct RunContext: Sendable {
        let scenario: Scenario
        let store: ResultsStore
        let replications: Int

        func newRun(_ run: PlannedRun) -> NewRun {
            NewRun(
                scenarioName: scenario.name, scenarioSHA256: scenario.sha256, scenarioText: scenario.sourceText,
                policy: run.policy, seed: run.seed, replication: run.replication, toolVersion: ToolVersion.current,
                createdAt: ExperimentRunner.timestamp(), horizonNs: scenario.fleet.horizon.nanoseconds,
                warmupNs: scenario.fleet.warmup.nanoseconds, writer: RunsUnderWay.writer,
                files: scenario.namedFiles.map {
                    RunFileRow(path: $0.path, resolvedPath: $0.resolvedPath, sha256: $0.sha256)
                })
        }

        func execute(_ run: PlannedRun, runID: Int64, progress: ((String, Double) -> Void)?) throws -> CompletedRun {
            let label = replications > 1 ? "\(run.policy) #\(run.replication + 1)/\(replications)" : run.policy
            let started = DispatchTime.now().uptimeNanoseconds
            // Requests and samples stream to the store and the summary as the run goes (see RowStreamer).
            let streamer = RowStreamer(store: store, runID: runID, spec: scenario.fleet)
            do {
                let accumulator = SummaryAccumulator(spec: scenario.fleet)
                let output = try FleetRun.execute(
                    scenario.fleet, policy: run.policy, seed: run.seed, sinks: [accumulator, streamer],
                    keepRequests: false, progress: progress.map { report in { report(label, $0) } })
                try streamer.finish()
                let wall = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                let summary = accumulator.summary(of: output)
                try store.completeRun(
                    id: runID, results: ExperimentRunner.results(output, summary: summary, wallSeconds: wall))
                return CompletedRun(
                    runID: runID, policy: run.policy, seed: run.seed, replication: run.replication,
                    digest: output.digest.hex, events: output.events, wallSeconds: wall, summary: summary)
            } catch {
                streamer.abandon()
                try? store.failRun(id: runID, error: "\(error)")
                throw error
            }
        }
    }

    /// The rows stored for one run at its end: everything but its request and sample rows.
    static func results(_ output: RunOutput, summary: RunSummary, wallSeconds: Double) -> RunResults {
        let workloadNames = output.spec.workloads.map(\.name)
        let windowNs = (output.spec.horizon - output.spec.warmup).nanoseconds
        let poolNames = output.spec.pools.map(\.name)
        var results = RunResults(
            replicas: output.replicas.map { replica in
                let window = replica.window
                let tokens = replica.countsTokens
                let prefix = replica.hasPrefixCache
                var row = ReplicaRow(
                    replica: replica.id.index, pool: replica.pool, kind: replica.kind,
                    numGPUBlocks: replica.kvCacheBlocks,
                    busyFraction: window.busy / (Double(replica.capacity) * Double(windowNs)),
                    promptTokens: tokens ? window.promptTokens : nil,
                    generationTokens: tokens ? window.generationTokens : nil,
                    prefixCacheQueries: prefix ? window.prefixCacheQueries : nil,
                    prefixCacheHits: prefix ? window.prefixCacheHits : nil,
                    preemptions: tokens ? window.preemptions : nil)
                row.cluster = output.mesh.map { $0.clusterNames[$0.replicaCluster[replica.id.index]] }
                if output.spec.pools.first(where: { $0.name == replica.pool })?.hasKVOffload == true {
                    row.externalPrefixCacheQueries = window.externalPrefixCacheQueries
                    row.externalPrefixCacheHits = window.externalPrefixCacheHits
                }
                return row
            },
            // Request and sample rows were streamed during the run (RowStreamer), or are added by the caller.
            requests: [],
            summaries: summary.metrics.map { SummaryRow(metric: $0.name, value: $0.value) },
            samples: [],
            itlHistogram: InterTokenLatency.histogram(output).map {
                ITLHistogramRow(replica: $0.replica, leNs: $0.leNs, tokens: $0.tokens)
            },
            digest: output.digest.hex, events: Int64(output.events), wallSeconds: wallSeconds)
        if output.spec.endsWhenDone {
            results.horizonNs = output.spec.horizon.nanoseconds
        }
        results.sessions = output.sessions.enumerated().map { id, session in
            SessionRow(
                sessionID: Int64(id), workload: workloadNames[session.workload.index], workloadSession: session.index,
                startNs: session.start.nanoseconds, endNs: session.end?.nanoseconds,
                status: (session.status ?? .unfinished).rawValue, plannedTurns: session.plannedTurns,
                turns: session.turns, timedOutTurns: session.timedOutTurns, failedTurns: session.failedTurns,
                retries: session.retries, reconnects: session.reconnects, subagentCalls: session.subagentCalls,
                compactions: session.compactions)
        }
        results.scalingEvents = output.scalingEvents.map { event in
            ScalingEventRow(
                timeNs: event.time.nanoseconds, pool: poolNames[event.pool.index], replica: event.replica.index,
                state: event.state.rawValue, desiredReplicas: event.desiredReplicas, metricValue: event.metricValue)
        }
        results.meshEvents = (output.mesh?.events ?? []).map { event in
            MeshEventRow(
                timeNs: event.time.nanoseconds, kind: event.kind.rawValue, subject: event.subject, detail: event.detail)
        }
        return results
    }

    static func timestamp() -> String { RunLiveness.timestamp(Date()) }
}

/// Hands out plan indexes to worker threads and collects their outcomes by index.
final class OutcomeSlots: @unchecked Sendable {
    // @unchecked: every access is under `lock`.
    private let lock = NSLock()
    private var next = 0
    private var outcomes: [Result<CompletedRun, any Error>?]

    init(count: Int) { outcomes = Array(repeating: nil, count: count) }

    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < outcomes.count else { return nil }
        next += 1
        return next - 1
    }

    func set(_ index: Int, _ outcome: Result<CompletedRun, any Error>) {
        lock.lock()
        outcomes[index] = outcome
        lock.unlock()
    }

    func all() -> [Result<CompletedRun, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return outcomes.map { $0! }
    }
}
