import Foundation
import InferenceModel
import Mesh
import Serving
import SimKernel
import Testing
import Traffic

@testable import Analysis
@testable import Fleet

/// A run hands out its requests as they end and keeps none: the streamed run is the kept run, row for row and
/// digest for digest, its summary is the same, and its memory follows the requests in flight.
@Suite struct StreamingTests {
    /// Hands-out order and content, as a sink sees them.
    final class Recorder: RunSink {
        var requests: [FinishedRequest] = []
        var samples: [GaugeSample] = []
        func accept(_ request: FinishedRequest) { requests.append(request) }
        func accept(_ sample: GaugeSample) { samples.append(sample) }
    }

    /// Specs that exercise every way a request can be referenced after it ends: timeouts and queue limits,
    /// flow control's gateway queue and decision time, the mesh's retries, east-west gateway queue and faults,
    /// agent sessions with sub-agents and timeouts, an autoscaler, and a spike.
    static let cases: [(String, FleetSpec, String)] = {
        var cases: [(String, FleetSpec, String)] = []
        cases.append(
            (
                "timeouts", FleetTests.spec(rate: 3.8, horizon: .seconds(600), maxQueue: 3, timeout: .seconds(4)),
                "random"
            ))
        cases.append(
            (
                "flow control",
                FlowControlTests.spec(
                    flowControl: FlowControlSpec(maxQueue: 20, maxWait: .milliseconds(200)),
                    decisionTime: .milliseconds(2)), "least-connections"
            ))
        let mesh = MeshTests.fleet(eastReplicas: 2, westReplicas: 2, rate: 60, horizon: .seconds(120)) { mesh in
            mesh.outlierDetection = OutlierDetectionSpec(
                consecutiveErrors: 2, interval: .seconds(5), baseEjectionTime: .seconds(10))
            mesh.retries = RetrySpec(attempts: 2)
            mesh.eastWestGateway.concurrency = 4
            mesh.faults = [
                FaultSpec(.clusterOutage("west"), at: .seconds(30), duration: .seconds(20)),
                FaultSpec(
                    .linkDegraded("east", "west", addedLatency: .milliseconds(50), loss: 0.3), at: .seconds(70),
                    duration: .seconds(20)),
            ]
        }
        cases.append(("mesh faults", mesh, "uniform"))
        cases.append(("mesh faults, scored", mesh, "global-inference-aware"))
        cases.append(
            (
                "agent sessions",
                AgentSessionTests.fleet(
                    connection: GatewayConnectionLimits(requestTimeout: .milliseconds(60)), fanOut: 0.5),
                "round-robin"
            ))
        cases.append(("autoscaler", AutoscalerTests.spec(delay: .seconds(30)), "least-connections"))
        var chat = WorkloadSpec(name: "chat", ratePerSecond: 40, pool: "pool")
        chat.schedule = .spike(
            base: 40, start: .seconds(120), rampUp: .seconds(10), peak: 3, hold: .seconds(60), decay: .seconds(10))
        cases.append(
            (
                "spike",
                FleetSpec(
                    pools: [ReplayAndSpikeFleetTests.stations(10, mean: 0.1)], workloads: [chat],
                    horizon: .seconds(400), warmup: .seconds(30), sampleInterval: .seconds(5)), "least-connections"
            ))
        return cases
    }()

    @Test(arguments: 0..<cases.count)
    func aStreamedRunIsTheKeptRun(index: Int) throws {
        let (name, spec, policy) = Self.cases[index]
        let kept = try FleetRun.execute(spec, policy: policy, seed: 9)
        let recorder = Recorder()
        let accumulator = SummaryAccumulator(spec: spec)
        let streamed = try FleetRun.execute(
            spec, policy: policy, seed: 9, sinks: [recorder, accumulator], keepRequests: false)
        #expect(streamed.requests.isEmpty && streamed.samples.isEmpty, "\(name)")
        #expect(streamed.digest == kept.digest, "\(name)")
        #expect(streamed.requestCount == kept.requests.count && streamed.statusTotals == kept.statusTotals, "\(name)")
        // Handed out in request order, each once, with the same content the kept run holds.
        #expect(recorder.requests.map(\.record) == kept.requests, "\(name)")
        #expect(recorder.samples == kept.samples, "\(name)")
        #expect(recorder.requests.compactMap(\.session) == kept.sessionLinks, "\(name)")
        if let mesh = kept.mesh {
            let paths = recorder.requests.compactMap(\.path)
            #expect(paths.map(\.networkNanoseconds) == mesh.networkNanoseconds, "\(name)")
            #expect(paths.map { Int32($0.attempts) } == mesh.attempts, "\(name)")
            #expect(paths.map(\.crossCluster) == mesh.crossCluster, "\(name)")
        }
        // The summary accumulated on the way equals the one computed from the kept requests.
        #expect(accumulator.summary(of: streamed) == RunSummary.of(kept), "\(name)")
    }

    @Test func memoryFollowsTheRequestsInFlightNotTheRunsLength() throws {
        // 4 stations at 80% load: a few requests in flight at a time. 10x the run holds no more records.
        let short = try FleetRun.execute(
            FleetTests.spec(rate: 3.2, horizon: .seconds(2_000)), policy: "least-connections", seed: 5,
            keepRequests: false)
        let long = try FleetRun.execute(
            FleetTests.spec(rate: 3.2, horizon: .seconds(20_000)), policy: "least-connections", seed: 5,
            keepRequests: false)
        #expect(long.requestCount > 60_000)
        // The held span is the oldest request still in flight to the newest: bounded by the queues' longest
        // stretch, not by the number of requests. A generous bar: under 1% of the long run's requests.
        #expect(long.peakRequestsHeld < long.requestCount / 100)
        #expect(short.peakRequestsHeld > 0)
    }
}
