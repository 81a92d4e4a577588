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

/// A LoRA run stores each request's adapter by name in `request.lora_adapter`, and counts the loads in its summary.
@Suite struct LoRARowsTests {
    @Test func eachRequestsAdapterIsStoredByName() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("lora.yaml")
        try """
        name: lora-rows
        seed: 3
        horizon: 10s
        policies: [round-robin]
        pools:
          - name: gpu
            replicas: 2
            gpu: {hardware: H100-80GB, model: Llama-3-8B, timing: roofline, max-loras: 2}
        workloads:
          - {name: tenants, rate: 10/s, input-tokens: 200, output-tokens: 20, lora: {adapters: [support, legal, code]}}
          - {name: base, rate: 2/s, input-tokens: 200, output-tokens: 20}
        """.write(to: file, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("l.sqlite").path
        let result = CLITests.invoke(["run", file.path, "--db", db, "--quiet"])
        #expect(result.status == 0, "\(result.err)")
        let store = try ResultsStore(path: db)
        let run = try #require(try store.runs().first)
        let rows = try store.requests(runID: run.id)
        let loaded = try ScenarioLoader.load(path: file.path)
        let kept = try FleetRun.execute(loaded.fleet, policy: "round-robin", seed: 3)
        #expect(rows.map(\.loraAdapter) == kept.requests.map { $0.adapter.map { ["support", "legal", "code"][$0] } })
        #expect(rows.filter { $0.workload == "tenants" }.allSatisfy { $0.loraAdapter != nil })
        #expect(rows.filter { $0.workload == "base" }.allSatisfy { $0.loraAdapter == nil })
        #expect(Set(rows.compactMap(\.loraAdapter)) == ["support", "legal", "code"])
        let loads = try store.summaries(runID: run.id).first { $0.metric == "lora_loads" }
        #expect(loads?.value == Double(kept.replicas.reduce(Int64(0)) { $0 + $1.window.loraLoads }))
    }
}

/// Ctrl-C during a run: the run is marked failed and the rows it had streamed are deleted, in a real process.
@Suite struct InterruptionTests {
    @Test func anInterruptedRunIsMarkedFailedAndKeepsNoRows() throws {
        let binary = try #require(CLITests.executable(), "the infermesh executable was not built next to the tests")
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("long.yaml")
        // The streamed-rows scenario over 20 simulated hours: far longer than the test waits.
        try StreamedRowsTests.scenario.replacingOccurrences(of: "horizon: 200s", with: "horizon: 20h")
            .write(to: file, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("i.sqlite").path
        let process = Process()
        process.executableURL = binary
        process.arguments = ["run", file.path, "--db", db, "--quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until some rows have been streamed, then interrupt.
        var streamed = 0
        for _ in 0..<600 where streamed == 0 {
            Thread.sleep(forTimeInterval: 0.1)
            if FileManager.default.fileExists(atPath: db), let store = try? ResultsStore(path: db),
                let run = try? store.runs().first
            {
                streamed = (try? store.requests(runID: run.id).count) ?? 0
            }
        }
        #expect(streamed > 0, "no rows were streamed before the deadline")
        process.interrupt()
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + SIGINT)
        let store = try ResultsStore(path: db)
        let run = try #require(try store.runs().first)
        #expect(run.status == .failed && run.error == "interrupted by SIGINT")
        #expect(try store.requests(runID: run.id).isEmpty && store.samples(runID: run.id).isEmpty)
    }
}
