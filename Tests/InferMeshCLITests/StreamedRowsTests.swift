import Fleet
import Foundation
import ResultsStore
import Scenarios
import Testing

@testable import InferMeshCLI

/// `infermesh run` streams request and sample rows to SQLite in batches during the run: what it stores is
/// the run's own rows, all of them, in request order, however many batches they took.
@Suite struct StreamedRowsTests {
    static let scenario = """
        # Stations at load 0.8, 100 req/s for 200 s: about 20k requests, several batches of rows.
        name: streamed-rows
        seed: 12
        horizon: 200s
        warmup: 10s
        sample-interval: 50ms
        policies: [least-connections]
        pools:
          - name: pool
            replicas: 4
            station: {servers: 4, service: {dist: exponential, mean: 32ms}}
        workloads:
          - name: chat
            rate: 100/s
            timeout: 100ms
        """

    @Test func storedRowsAreEveryRowOfTheRunInRequestOrder() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("streamed.yaml")
        try Self.scenario.write(to: file, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("s.sqlite").path
        let result = CLITests.invoke(["run", file.path, "--db", db, "--quiet"])
        #expect(result.status == 0, "\(result.err)")

        // The same run in process, keeping everything, converted the way the streamer converts.
        let loaded = try ScenarioLoader.load(path: file.path)
        let kept = try FleetRun.execute(loaded.fleet, policy: "least-connections", seed: 12)
        #expect(kept.requests.count > 2 * RowStreamer.batchRows && kept.samples.count > RowStreamer.batchRows)
        let expected = kept.requests.map {
            RowStreamer.row(FinishedRequest(record: $0), workloadNames: ["chat"], clusterNames: nil)
        }

        let store = try ResultsStore(path: db)
        let run = try #require(try store.runs().first)
        #expect(run.status == .complete && run.digest == kept.digest.hex)
        #expect(try store.requests(runID: run.id) == expected)
        #expect(try store.samples(runID: run.id) == kept.samples.map(RowStreamer.row))
        // Some requests time out: the statuses reach the rows.
        #expect(expected.contains { $0.status == "timed_out" })
    }
}
